import sys

from despeckled.cli import main

sys.exit(main())
