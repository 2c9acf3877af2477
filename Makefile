# Makefile for pg_cdp, built with PGXS.
#
#   make demo    install what is missing, build, play the retailer's story on a
#                throwaway server with the worker and a local SMTP server (demo/run.sh)
#   make test    the same set-up, then the regression suite and the TAP tests
#   make         build only (needs PostgreSQL 15 server development files)
#   make fuzz    libFuzzer run of the expression parser (clang; RUNS=n, default
#                10,000,000; fuzz/run.sh), not part of make test
#
# The two top-level commands work on a fresh Debian 12 machine as root: they
# install the Debian packages they need before PGXS is consulted, which is why
# the PGXS include below is conditional.

EXTENSION  = pg_cdp
EXTVERSION = 0.1.0

MODULE_big = pg_cdp
OBJS = \
	src/pg_cdp.o \
	src/textutil.o \
	src/distance.o \
	src/jaro.o \
	src/names.o \
	src/normalize.o \
	src/person_name.o \
	src/address.o \
	src/email.o \
	src/phone.o \
	src/metaphone.o \
	src/merge.o \
	src/guc.o \
	src/cluster.o \
	src/progress.o \
	src/dsl_lex.o \
	src/dsl_parse.o \
	src/dsl_compile.o \
	src/dsl_agg.o \
	src/dsl_fused.o \
	src/template.o \
	src/mail.o \
	src/worker.o

# The install script is assembled from one hand-edited fragment per concern,
# in this order, plus the nickname seed generated from data/nicknames.csv.
SQL_PARTS = \
	src/sql/schema.sql \
	src/sql/distance.sql \
	src/sql/jaro.sql \
	src/sql/normalize.sql \
	src/sql/phone.sql \
	src/sql/metaphone.sql \
	src/sql/names.sql \
	src/sql/merge.sql \
	src/sql/cluster.sql \
	src/sql/unify_catalog.sql \
	src/sql/unify.sql \
	src/sql/dsl.sql \
	src/sql/activity.sql \
	src/sql/measure.sql \
	src/sql/segment.sql \
	src/sql/mail.sql \
	src/sql/template.sql \
	src/sql/journey.sql \
	src/sql/clienteling.sql

DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
EXTRA_CLEAN = src/sql/nickname_data.sql

# pg_regress tests, run in this order by test/run.sh in a temporary instance.
REGRESS = init distance jaro normalize email phone metaphone names merge cluster unify activity dsl measure segment mail template clienteling journey comments

PG_CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
PG_CPPFLAGS += -I$(srcdir)/src
SHLIB_LINK += -lcurl

# Prefer the PostgreSQL 15 installation Debian puts in a fixed place.
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

.DEFAULT_GOAL := all

ifneq ($(and $(PGXS),$(wildcard $(PGXS))),)
include $(PGXS)
else
all install installcheck:
	@echo "pg_cdp: PostgreSQL 15 server development files not found (no usable pg_config)." >&2
	@echo "Run 'make deps' as root to install them, or 'make test' / 'make demo'." >&2
	@exit 1
endif

src/sql/nickname_data.sql: data/nicknames.csv test/nickname_sql.sh
	sh test/nickname_sql.sh $< > $@

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) src/sql/nickname_data.sql Makefile
	{ echo '-- pg_cdp $(EXTVERSION): generated from src/sql/*.sql by make; edit those files.'; \
	  printf '%s\n' '\echo Use "CREATE EXTENSION pg_cdp" to load this file. \quit'; \
	  cat $(SQL_PARTS) src/sql/nickname_data.sql; } > $@

$(OBJS): src/pg_cdp.h
src/normalize.o src/person_name.o src/address.o src/email.o: src/normalize.h
src/phone.o: src/phone_regions.h
src/cluster.o src/progress.o src/pg_cdp.o: src/progress.h
src/dsl_lex.o src/dsl_parse.o src/dsl_compile.o src/dsl_fused.o: src/dsl.h
src/mail.o: src/mail.h
src/worker.o: src/mail.h src/worker.h

.PHONY: deps test-deps demo test bench fuzz

# Debian packages the build needs (installed only when missing).
deps:
	@sh test/deps.sh build

test-deps:
	@sh test/deps.sh test

demo:
	@sh test/deps.sh demo
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory install >/dev/null
	@sh demo/run.sh

test: test-deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory install >/dev/null
	@sh test/run.sh $(REGRESS)

bench: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory install >/dev/null
	@sh bench/kernels

fuzz:
	@sh fuzz/run.sh $(RUNS)
