# wincontainers.images developer entry points. "make test" is the one test command (scripts/test.sh).
SHELL := /bin/bash

.PHONY: test bootstrap engine-start engine-stop engine-status test-images collection sanity demo

test:
	bash scripts/test.sh

bootstrap:
	bash scripts/bootstrap.sh

engine-start:
	bash scripts/engine.sh start

engine-stop:
	bash scripts/engine.sh stop

engine-status:
	bash scripts/engine.sh status

test-images: engine-start
	bash scripts/test-images.sh

collection:
	bash scripts/build-collection.sh

sanity:
	bash scripts/sanity.sh

# The whole workflow on this machine: engine + registries, collection, site.yml twice (changed=0), report.
demo:
	bash scripts/demo.sh
