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

# scripts/engine.sh status exits 3 when a component is not running (scripts rely on it); for make that is an answer,
# not an error.
engine-status:
	@bash scripts/engine.sh status; rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "engine: stopped (or partly); 'make engine-start' starts it"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi

test-images: engine-start
	bash scripts/test-images.sh

collection:
	bash scripts/build-collection.sh

sanity:
	bash scripts/sanity.sh

# The whole workflow on this machine: engine + registries, collection, site.yml twice (changed=0), report.
demo:
	bash scripts/demo.sh
