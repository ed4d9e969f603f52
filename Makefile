# tunsec build. Sources are discovered by directory, so a new module needs no
# edit here: crypto/ esp/ ike/ tun/ and daemon/ (minus the two mains) form
# libtunsec.a; tests/unit/*.c link into one unit-test binary.
#
#   make                 tunsecd and tunsec
#   make test            the whole suite (unit, cross-implementation, netns)
#   make test SANITIZE=1 the same under ASan + UBSan (also: make check-asan)
#   make check           both, one summary line (what CI runs)
#   make fuzz            libFuzzer targets (clang)

CC       ?= cc
SANITIZE ?= 0
PREFIX   ?= /usr/local

ifeq ($(SANITIZE),1)
B        ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT      := -O1 -g
else
B        ?= build
SANFLAGS :=
OPT      := -O2 -g
endif

PKGS     := libsodium libuv libssl libcrypto
CPPFLAGS += -I. -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS))
CFLAGS   += -std=c11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wno-unused-parameter -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
            -MMD -MP $(SANFLAGS)
ifeq ($(SANITIZE),1)
CFLAGS   := $(filter-out -D_FORTIFY_SOURCE=2,$(CFLAGS))
endif
LDFLAGS  += $(SANFLAGS)
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lmbedtls -lmbedx509 -lmbedcrypto -lm

LIB_SRCS  := $(wildcard crypto/*.c esp/*.c ike/*.c tun/*.c) \
             $(filter-out daemon/main.c daemon/cli.c,$(wildcard daemon/*.c))
UNIT_SRCS := $(wildcard tests/unit/*.c)
# While modules are written in parallel: ONLY="crypto esp" limits the library
# to those directories and UNIT_ONLY="tests/unit/esp*_test.c" the unit tests
# (use with B=build-<you> so that builds do not race).
ifdef ONLY
LIB_SRCS  := $(filter $(addsuffix /%,$(ONLY)) $(addsuffix .c,$(ONLY)),$(LIB_SRCS))
endif
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/%.o)
ifdef UNIT_ONLY
UNIT_SRCS := tests/unit/main.c $(wildcard $(UNIT_ONLY))
endif
UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/%.o)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS     := $(TOOL_SRCS:tests/tools/%.c=$(B)/%)
FUZZ_SRCS := $(wildcard tests/fuzz/*_fuzz.c)

all: $(B)/tunsecd $(B)/tunsec tunsecd tunsec

tunsecd tunsec: %: $(B)/%
	@ln -sf $< $@

$(B)/libtunsec.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/tunsecd: $(B)/daemon/main.o $(B)/libtunsec.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tunsec: $(B)/daemon/cli.o $(B)/libtunsec.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/unit_tests: $(UNIT_OBJS) $(B)/libtunsec.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%: $(B)/tests/tools/%.o $(B)/libtunsec.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

build-tests: all $(B)/unit_tests $(TOOLS)

# TESTS=pattern narrows the suite (a substring of the test's name).
test: build-tests
	BUILD=$(B) ASAN_BUILD= tests/run.sh $(TESTS)

check-asan:
	$(MAKE) build-tests SANITIZE=1
	BUILD=build-asan ASAN_BUILD= tests/run.sh $(TESTS)

# What CI runs: every test on the normal build; the unit tests, the fuzz
# targets (ASan + UBSan by construction) and the scripts marked "# asan:"
# on the ASan + UBSan build; one summary line (tests/run.sh says more).
check: build-tests
	$(MAKE) build-tests SANITIZE=1
	$(MAKE) fuzz
	BUILD=$(B) ASAN_BUILD=build-asan tests/run.sh $(TESTS)

unit: $(B)/unit_tests
	$(B)/unit_tests $(TESTS)

FUZZ_CFLAGS := -std=c11 -g -O1 -I. -D_GNU_SOURCE -fno-omit-frame-pointer \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# The library sources a target is compiled with: FUZZ_LIB_<name> where the
# target needs only some modules (so that a half-written module elsewhere
# cannot break it, and the build stays short), else every non-daemon one.
FUZZ_LIB_esp_decap_fuzz := $(wildcard crypto/*.c esp/*.c) tun/mss.c
FUZZ_LIB_esp_sel_fuzz   := esp/sel.c
FUZZ_LIB_config_fuzz    := $(wildcard crypto/*.c esp/*.c) daemon/config.c daemon/conftree.c \
                           ike/id.c ike/proposal.c
# ike_engine_fuzz #includes ike/engine.c (to reach its SK contexts).
FUZZ_LIB_ike_engine_fuzz := $(wildcard crypto/*.c esp/*.c) $(filter-out ike/engine.c,$(wildcard ike/*.c))
fuzz_lib = $(or $(FUZZ_LIB_$(1)),$(filter-out daemon/%,$(LIB_SRCS)))
fuzz: $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/%)

build-fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(wildcard */*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) $(shell pkg-config --cflags $(PKGS)) -o $@ $< \
		$(call fuzz_lib,$*) $(LDLIBS)

install: all
	install -D -m 0755 $(B)/tunsecd $(DESTDIR)$(PREFIX)/sbin/tunsecd
	install -D -m 0755 $(B)/tunsec $(DESTDIR)$(PREFIX)/bin/tunsec
	install -D -m 0644 daemon/tunsec.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/tunsec.conf.5
	install -D -m 0644 daemon/tunsecd.8 $(DESTDIR)$(PREFIX)/share/man/man8/tunsecd.8
	install -D -m 0644 daemon/tunsec.8 $(DESTDIR)$(PREFIX)/share/man/man8/tunsec.8

format:
	clang-format -i $(wildcard */*.c */*.h tests/*/*.c)

clean:
	rm -rf build build-asan build-fuzz tunsecd tunsec

.PHONY: all test check check-asan unit fuzz install format clean build-tests
.SECONDARY:
-include $(shell find $(B) -name '*.d' 2>/dev/null)
