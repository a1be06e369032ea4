"""The daemon: the watcher proposes paths (:mod:`.watcher`), readiness
decides when a file is taken (:mod:`.readiness`), one pure policy decides a
file's fate (:mod:`.policy`), the lifecycle carries it out Maildir-style in
a worker (:mod:`.lifecycle`, :mod:`.pool`), and the service steps it all
with an injected clock (:mod:`.service`)."""
