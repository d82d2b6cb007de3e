# iolab — one non-recursive Makefile (the redis/git/liburing habit).
#
#   make                 build everything into bin/
#   make test            unit + integration suite, ends with "N passed, N failed, N skipped"
#   make lab-N           start lab N (see LESSONS.md §N); make check-lab-N runs it headless
#                        (BROKEN=1: against the lab's broken variant, where a check must fail)
#   make deps            install the Debian packages iolab needs
#   make doctor          what the labs depend on, and what to do about each problem
#   make exercise-N      write lab N's exercise into work/; make grade-N grades it
#
# Knobs: WERROR=1 (warnings are errors, CI uses it), SANITIZER=address|undefined|thread
#        or a comma list (CI: address,undefined),
#        V=1 (show the commands), O=-O2 (optimisation level).

CC      ?= cc
O       ?= -O2
BIN     ?= bin
BUILD   ?= build

WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter -Wvla -Wcast-qual -Wwrite-strings
CFLAGS  ?= $(O) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -pthread -I. $(WARN)
LDFLAGS ?=
LDLIBS  := -pthread -lrt -lm

ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif

ifneq ($(SANITIZER),)
comma := ,
SANITIZERS := $(subst $(comma), ,$(SANITIZER))
ifneq ($(filter-out address undefined thread,$(SANITIZERS)),)
$(error SANITIZER must be address, undefined, thread or a comma list such as address,undefined (got '$(SANITIZER)'))
endif
SANFLAGS := -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
ifneq ($(filter undefined,$(SANITIZERS)),)
SANFLAGS += -fno-sanitize-recover=undefined
endif
CFLAGS  += $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
endif

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

# Rebuild everything when the flags change (plain <-> sanitizer builds share bin/).
# (Not in a dry run, `make -n`: it would mark the real build stale.)
FLAGS_STAMP := $(BUILD)/.flags
ifeq ($(findstring n,$(firstword -$(MAKEFLAGS))),)
$(shell mkdir -p $(BUILD) && echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $(FLAGS_STAMP) || echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $(FLAGS_STAMP))
endif

# Library flags come from pkg-config when it is there (make deps installs it).
PKG_CONFIG ?= pkg-config
pkg = $(shell $(PKG_CONFIG) $(1) $(2) 2>/dev/null || echo $(3))
URING_CFLAGS := $(call pkg,--cflags,liburing,)
URING_LIBS   := $(call pkg,--libs,liburing,-luring)
CURSES_CFLAGS:= $(call pkg,--cflags,ncursesw,)
CURSES_LIBS  := $(call pkg,--libs,ncursesw,-lncursesw)
CMOCKA_CFLAGS:= $(call pkg,--cflags,cmocka,)
CMOCKA_LIBS  := $(call pkg,--libs,cmocka,-lcmocka)

# --- what gets built -------------------------------------------------------
# common/*.c        -> build/libiolab.a, linked into every program
# labs/*/*.c        -> one program each: labs/05-epoll-lt/echo-epoll-lt.c -> bin/echo-epoll-lt
# labs/tools/load/*.c -> the parts of bin/iolab-load besides labs/tools/iolab-load.c
# viewer/*.c        -> bin/iolab-view
# tests/unit/*.c    -> bin/tests/<name> (cmocka)
# tests/integration/*.c -> bin/tests/<name>
LIB_SRC   := $(wildcard common/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libiolab.a

PROG_SRC  := $(wildcard labs/*/*.c)
PROGS     := $(addprefix $(BIN)/,$(notdir $(PROG_SRC:.c=)))
LOAD_SRC  := $(wildcard labs/tools/load/*.c)

VIEW_SRC  := $(wildcard viewer/*.c)
VIEW_OBJ  := $(VIEW_SRC:%.c=$(BUILD)/%.o)
VIEWER    := $(if $(VIEW_SRC),$(BIN)/iolab-view)

UNIT_SRC  := $(wildcard tests/unit/*.c)
UNITS     := $(addprefix $(BIN)/tests/,$(notdir $(UNIT_SRC:.c=)))
ITEST_SRC := $(wildcard tests/integration/*.c)
# tests/lib/*.c: what the test programs share, linked into each of them.
THELP_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/lib/*.c))
ITESTS    := $(addprefix $(BIN)/tests/,$(notdir $(ITEST_SRC:.c=)))

ALL_OBJ   := $(LIB_OBJ) $(PROG_SRC:%.c=$(BUILD)/%.o) $(LOAD_SRC:%.c=$(BUILD)/%.o) $(VIEW_OBJ) \
             $(UNIT_SRC:%.c=$(BUILD)/%.o) $(ITEST_SRC:%.c=$(BUILD)/%.o) $(THELP_OBJ)

# A lab is a directory labs/NN-name/ with a scenario: adding one needs no edit here.
LAB_NUMS   := $(patsubst 0%,%,$(patsubst labs/%,%,$(foreach d,$(wildcard labs/[0-9][0-9]-*/scenario),$(firstword $(subst -, ,$(d))))))
LABS       := $(addprefix lab-,$(LAB_NUMS))
CHECK_LABS := $(addprefix check-lab-,$(LAB_NUMS))
.PHONY: all deps deps-check doctor test test-unit test-integration clean clean-shm compare \
        $(LABS) $(CHECK_LABS)
.DEFAULT_GOAL := all

all: deps-check $(PROGS) $(VIEWER) $(UNITS) $(ITESTS)

# Per-program libraries.
$(BIN)/echo-uring: LDLIBS += $(URING_LIBS)
$(BUILD)/labs/09-io-uring/%.o $(BUILD)/common/uring.o: CFLAGS += $(URING_CFLAGS)
$(BIN)/iolab-load: $(LOAD_SRC:%.c=$(BUILD)/%.o)
$(BIN)/iolab-view: LDLIBS += $(CURSES_LIBS)
$(BUILD)/viewer/%.o: CFLAGS += $(CURSES_CFLAGS)
$(UNITS): LDLIBS += $(CMOCKA_LIBS)
$(BUILD)/tests/unit/%.o: CFLAGS += $(CMOCKA_CFLAGS)

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

# Order-only on deps-check: `make` installs what is missing before it compiles anything.
$(ALL_OBJ): | deps-check

define prog_rule
$(BIN)/$(notdir $(1:.c=)): $(BUILD)/$(1:.c=.o) $(LIB)
	@mkdir -p $$(@D)
	$$(call say,LINK,$$@)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(filter %.a,$$^) $$(LDLIBS)
endef
$(foreach s,$(PROG_SRC),$(eval $(call prog_rule,$(s))))

$(BIN)/tests/%: $(BUILD)/tests/unit/%.o $(THELP_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/tests/%: $(BUILD)/tests/integration/%.o $(THELP_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The viewer's unit test links the viewer's objects, all but the terminal ones.
VIEW_TTY_OBJ := $(addprefix $(BUILD)/viewer/,main.o crt.o draw.o draw_server.o paint.o)
$(BIN)/tests/test_view_sample: $(filter-out $(VIEW_TTY_OBJ),$(VIEW_OBJ))
$(BIN)/tests/test_view_sample: LDLIBS += $(LIB)

$(BIN)/iolab-view: $(VIEW_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(ALL_OBJ:.o=.d)

# --- set-up ------------------------------------------------------------------
deps:
	@labs/tools/deps.sh install

deps-check:
	@labs/tools/deps.sh ensure

doctor: all
	@$(BIN)/iolab-doctor

# --- tests -------------------------------------------------------------------
# tests/run.sh runs every unit test and every integration test over every server,
# each under `timeout`, and prints the failed/skipped lists and "N passed, N failed, N skipped".
RUN_TESTS = IOLAB_BIN=$(abspath $(BIN)) tests/run.sh
test: all
	@$(RUN_TESTS)

test-unit: all
	@$(RUN_TESTS) unit

test-integration: all
	@$(RUN_TESTS) integration

# --- labs --------------------------------------------------------------------
# Each lab's scenario lives in its directory (labs/NN-name/scenario); labs/tools/run-lab runs it.
# Static pattern rules: make never applies an implicit (%) rule to a .PHONY target.
$(LABS): lab-%: all
	@labs/tools/run-lab $(if $(BROKEN),--broken )$*

$(CHECK_LABS): check-lab-%: all
	@labs/tools/run-lab --check $(if $(BROKEN),--broken )$*

# A number with no lab: say so and list the labs that exist.
lab-%:
	@echo "make: there is no lab $* (no labs/$*-*/scenario). The labs are:" >&2; labs/tools/run-lab --list >&2; exit 2
check-lab-%:
	@echo "make: there is no lab $* (no labs/$*-*/scenario). The labs are:" >&2; labs/tools/run-lab --list >&2; exit 2

compare: all
	@labs/tools/compare $(if $(QUICK),--quick)

# --- exercises ---------------------------------------------------------------
# make exercise-N writes lab N's exercise into work/NN-name/ (labs/tools/exercise: the
# model file with its EXERCISE part cut out); make grade-N [SRC=file.c] builds that file
# (or any) against this build's common/ and grades it (labs/tools/grade).  A lab has an
# exercise when it has labs/NN-name/exercise.txt.
EX_NUMS   := $(patsubst 0%,%,$(patsubst labs/%,%,$(foreach d,$(wildcard labs/[0-9][0-9]-*/exercise.txt),$(firstword $(subst -, ,$(d))))))
EXERCISES := $(addprefix exercise-,$(EX_NUMS))
GRADES    := $(addprefix grade-,$(EX_NUMS))
GRADE_ENV := $(BIN)/tests/grade.env
.PHONY: $(EXERCISES) $(GRADES)
all: $(GRADE_ENV)

# How the grader compiles a student's file: the flags and the library of this build.
$(GRADE_ENV): $(FLAGS_STAMP) Makefile
	@mkdir -p $(@D)
	$(call say,GEN,$@)printf '%s\n' "GRADE_CC='$(CC)'" "GRADE_CFLAGS='$(CFLAGS)'" "GRADE_LDFLAGS='$(LDFLAGS)'" \
	  "GRADE_LIB='$(abspath $(LIB))'" "GRADE_LDLIBS='$(LDLIBS)'" \
	  "GRADE_URING_CFLAGS='$(URING_CFLAGS)'" "GRADE_URING_LIBS='$(URING_LIBS)'" >$@

$(EXERCISES): exercise-%:
	@labs/tools/exercise $(if $(filter 1,$(FORCE)),--force) $*

$(GRADES): grade-%: all
	@IOLAB_BIN=$(abspath $(BIN)) labs/tools/grade $(if $(SRC),--src $(SRC)) $*

exercise-%:
	@echo "make: lab $* has no exercise (no labs/$*-*/exercise.txt). Exercises: $(EX_NUMS)" >&2; exit 2
grade-%:
	@echo "make: lab $* has no exercise to grade (no labs/$*-*/exercise.txt). Exercises: $(EX_NUMS)" >&2; exit 2

clean:
	rm -rf $(BIN) $(BUILD)

# Remove telemetry segments left by servers that were killed with SIGKILL.
clean-shm:
	@for f in /dev/shm/iolab*.*; do [ -e "$$f" ] || continue; \
	  pid=$${f##*.}; kill -0 "$$pid" 2>/dev/null || { echo "rm $$f"; rm -f "$$f"; }; done

# --- benchmark peers and make bench ----------------------------------------------
# Two echo servers on other people's event loops (libuv, libevent; Debian packages),
# speaking the iolab protocol, for labs/tools/bench/bench to measure the models against.
UV_CFLAGS    := $(call pkg,--cflags,libuv,)
UV_LIBS      := $(call pkg,--libs,libuv,-luv)
EVENT_CFLAGS := $(call pkg,--cflags,libevent,)
EVENT_LIBS   := $(call pkg,--libs,libevent,-levent)
PEERS        := $(BIN)/libuv-echo $(BIN)/libevent-echo
PEER_OBJ     := $(BUILD)/labs/tools/bench/peer.o $(BUILD)/labs/tools/bench/libuv-echo.o \
                $(BUILD)/labs/tools/bench/libevent-echo.o
all: $(PEERS)
$(PEER_OBJ): | deps-check
$(BUILD)/labs/tools/bench/libuv-echo.o: CFLAGS += $(UV_CFLAGS)
$(BUILD)/labs/tools/bench/libevent-echo.o: CFLAGS += $(EVENT_CFLAGS)
$(BIN)/libuv-echo: LDLIBS += $(UV_LIBS)
$(BIN)/libevent-echo: LDLIBS += $(EVENT_LIBS)
$(PEERS): $(BIN)/%: $(BUILD)/labs/tools/bench/%.o $(BUILD)/labs/tools/bench/peer.o $(LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
-include $(PEER_OBJ:.o=.d)

.PHONY: bench
bench: all
	@labs/tools/bench/bench $(if $(QUICK),--quick)

# --- fuzzing (libFuzzer) -------------------------------------------------------
# tests/fuzz/fuzz_NAME.c is a libFuzzer harness; its seeds are in tests/fuzz/corpus/NAME/.
# Built with clang into build/fuzz/ (never touches the gcc build), run for FUZZ_SECONDS
# each; new inputs go to build/fuzz/corpus/NAME/, crashes to build/fuzz/crash-NAME-*.
# `make fuzz` exits non-zero when a harness finds a crash, a leak or a timeout.
# Replay one input: build/fuzz/fuzz_NAME build/fuzz/crash-NAME-<hash>  (a fix gets a unit test).
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=c11 -D_GNU_SOURCE -pthread -I. $(WARN) $(FUZZ_SAN) $(if $(filter 1,$(WERROR)),-Werror)
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS      := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRC))
# common/uring.c needs liburing, which no harness links.
FUZZ_LIB_OBJ := $(filter-out $(FUZZ_BUILD)/common/uring.o,$(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o))
# The telemetry harness poisons the page tail past each mapping (see its header).
$(FUZZ_BUILD)/fuzz_telemetry: FUZZ_LDFLAGS := -Wl,--wrap=mmap,--wrap=munmap

$(FUZZ_LIB_OBJ): $(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CLANG,$<)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZERS): $(FUZZ_BUILD)/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	$(call say,CLANG,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_LDFLAGS) -o $@ $^ $(LDLIBS)

$(FUZZ_BUILD)/mkseeds: tests/fuzz/mkseeds.c $(FUZZ_LIB_OBJ)
	$(call say,CLANG,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS)

-include $(FUZZ_LIB_OBJ:.o=.d)

.PHONY: fuzz fuzz-build fuzz-seeds
fuzz-build: $(FUZZERS)

fuzz: fuzz-build
	@rc=0; for f in $(FUZZERS); do n=$${f##*/fuzz_}; mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
	      -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crash-$$n- \
	      $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n >$(FUZZ_BUILD)/$$n.log 2>&1; \
	  s=$$?; grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(FUZZ_BUILD)/$$n.log | sed 's/^/  /'; \
	  if [ $$s -ne 0 ]; then rc=1; echo "fuzz: $$n FAILED (exit $$s), log $(FUZZ_BUILD)/$$n.log:"; \
	    grep -E '^==[0-9]+==ERROR|^SUMMARY|^fuzz_|Test unit written' $(FUZZ_BUILD)/$$n.log | head -20; fi; \
	done; exit $$rc

# Rewrite the committed seeds (after a change to the telemetry layout, say).
fuzz-seeds: $(FUZZ_BUILD)/mkseeds
	rm -rf tests/fuzz/corpus && $(FUZZ_BUILD)/mkseeds tests/fuzz/corpus
