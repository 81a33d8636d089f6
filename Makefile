# SPDX-License-Identifier: GPL-2.0
#
# pmem-rdma top-level Makefile.
#
# Every target has a "## make TARGET  what it does" line just above its rule;
# make help prints those lines, in this order.

.DEFAULT_GOAL	:= all
TOP		:= $(CURDIR)
PMEM_RDMA_CACHE	?= $(TOP)/.cache
export PMEM_RDMA_CACHE
# The Debian kernel line the modules are built for and the VM boots
# (scripts/kernel-env): 6.1, the default, or 6.12.  Each has its setup.env
# and its module build directories; user space is one build for both.
KERNEL		?= 6.1
PMEM_RDMA_KERNEL := $(KERNEL)
export PMEM_RDMA_KERNEL
KSFX		:= $(if $(filter 6.1,$(KERNEL)),,-$(KERNEL))
KENV		:= $(PMEM_RDMA_CACHE)/setup$(KSFX).env
KBLD		:= build$(if $(KSFX),/$(KERNEL))

NOSETUP_GOALS	:= clean distclean help uninstall
ifeq ($(filter-out $(NOSETUP_GOALS),$(or $(MAKECMDGOALS),all)),)
else
# Always run the (idempotent, fast when done) setup; make restarts only if it
# changed setup.env.
include $(KENV)
$(KENV): FORCE
	@scripts/setup
endif

RXE_BLD		:= $(KBLD)/rxe_flush
RXE_DIR		:= drivers/rxe_flush
RXE_PDIR	:= $(RXE_DIR)/patches$(KSFX)
RXE_SERIES	:= $(shell PMEM_RDMA_KERNEL=$(KERNEL) scripts/apply-series --list 2>/dev/null)
RXE_PATCHES	:= $(addprefix $(RXE_PDIR)/,$(RXE_SERIES))
RXE_OURS	:= $(wildcard $(RXE_DIR)/*.c $(RXE_DIR)/*.h)
PMEM_BLD	:= $(KBLD)/pmem_rdma
PMEM_DIR	:= drivers/pmem_rdma
SELFTESTS	:= tools/testing/selftests/pmem_rdma

# W=1 for our files; no BTF for out-of-tree modules (the headers carry no vmlinux)
KBUILD_FLAGS	:= W=1 PMEM_RDMA_TOP=$(TOP) CONFIG_DEBUG_INFO_BTF_MODULES=
# rxe_flush's debugfs transmit faults, which the tests need: on in this tree's
# builds (make RXE_FLUSH_FAULT=n leaves them out), never in the packages (DKMS)
RXE_FLUSH_FAULT	?= y
RXE_KBUILD_FLAGS := $(KBUILD_FLAGS) CONFIG_RDMA_RXE_FLUSH_FAULT=$(RXE_FLUSH_FAULT)

.PHONY: all modules rxe_flush rxe_flush_tree pmem_rdma rdma-core lib selftests tools test fuzz crash \
	demo bench man install uninstall install-dkms rdma-core-src deb \
	sparse checkpatch clean distclean help FORCE

## KERNEL=6.12       with any goal: for Debian's 6.12 kernel line instead of
##                   6.1 (modules in build/6.12/, the VM boots 6.12); see
##                   Documentation/build-and-test.rst
## make              setup (idempotent), then build everything out of tree:
##                   build/rxe_flush/rdma_rxe_flush.ko, build/pmem_rdma/pmem_rdma.ko,
##                   build/rdma-core (in place), build/libpmrdma, build/selftests,
##                   build/tools (same as make all)
all: modules rdma-core lib selftests tools

## make modules      both kernel modules (rxe_flush and pmem_rdma)
modules: rxe_flush pmem_rdma

# Debian's rxe, patched (scripts/apply-series, shared with check-series):
# re-made from scratch whenever the series changes.
$(RXE_BLD)/.patched: $(RXE_PDIR)/series $(RXE_PATCHES) $(KENV) \
		scripts/apply-series
	@scripts/apply-series $(RXE_BLD)
	@touch $@

## make rxe_flush    the patched Soft-RoCE, build/rxe_flush/rdma_rxe_flush.ko
rxe_flush: rxe_flush_tree
	$(MAKE) -C $(KDIR) M=$(TOP)/$(RXE_BLD) $(RXE_KBUILD_FLAGS) modules

## make rxe_flush_tree  only the patched rxe sources with our files linked in
# our own files, linked beside the patched ones
rxe_flush_tree: $(RXE_BLD)/.patched
	@for f in $(RXE_OURS) $(RXE_DIR)/Kbuild; do ln -sf $(TOP)/$$f $(RXE_BLD)/; done

## make pmem_rdma    the pmem target module, build/pmem_rdma/pmem_rdma.ko
pmem_rdma:
	@mkdir -p $(PMEM_BLD)
	@for f in $(wildcard $(PMEM_DIR)/*.c $(PMEM_DIR)/*.h) $(PMEM_DIR)/Kbuild; do \
		ln -sf $(TOP)/$$f $(PMEM_BLD)/; done
	$(MAKE) -C $(KDIR) M=$(TOP)/$(PMEM_BLD) $(KBUILD_FLAGS) modules

## make rdma-core    rdma-core 56.1 with our patches, in place in build/rdma-core
rdma-core:
	@scripts/build-rdma-core

# only its patched source tree, build/rdma-core-src (make install, make man)
rdma-core-src:
	@scripts/build-rdma-core --source

LIB_DIR		:= tools/lib/pmrdma
LIB_BLD		?= $(TOP)/build/libpmrdma

# where the library and the tools find the patched rdma-core at run time;
# make install builds them again (into build/inst) with the installed one
RDMA_CORE_BLD	?= $(TOP)/build/rdma-core
RDMA_CORE_DEP	?= rdma-core
RUNPATH		?= $(RDMA_CORE_BLD)/lib
TOOLS_BLD	?= build/tools

## make lib          libpmrdma, the programming model: build/libpmrdma
lib: $(RDMA_CORE_DEP)
	$(MAKE) -C $(LIB_DIR) OUTPUT=$(LIB_BLD) RDMA_CORE=$(RDMA_CORE_BLD) TOP=$(TOP) \
		RUNPATH=$(RUNPATH)

## make selftests    the kselftests, into build/selftests
selftests: $(RDMA_CORE_DEP) lib
	$(MAKE) -C $(SELFTESTS) OUTPUT=$(TOP)/build/selftests \
		KSFT_DIR=$(LINUX_SRC)/tools/testing/selftests \
		RDMA_CORE=$(RDMA_CORE_BLD) TOP=$(TOP) LIBPMRDMA=$(LIB_BLD)

# user-side tools, built on libpmrdma alone (never the selftests' helpers)
TOOLS_CFLAGS	:= -O2 -g -Wall -Wextra -D_GNU_SOURCE -I$(RDMA_CORE_BLD)/include \
		   -I$(TOP)/$(LIB_DIR) -I$(TOP)/tools/include $(EXTRA_CFLAGS)
# the tools link libpmrdma.a in the build tree, libpmrdma.so.0 when installed;
# EXTRA_CFLAGS, EXTRA_LDFLAGS: added by a package build (hardening)
PMRDMA_LINK	?= $(LIB_BLD)/libpmrdma.a
TOOLS_LDLIBS	:= $(TOOLS_LDLIBS_DIR) $(PMRDMA_LINK) -L$(RDMA_CORE_BLD)/lib \
		   -Wl,-rpath,$(RUNPATH) -lrxe -lrdmacm -libverbs -lcrypto -lpthread $(EXTRA_LDFLAGS)

## make tools        pmrdmactl, the log writer pmlog and the demo program, into build/tools
tools: lib $(TOOLS_BLD)/rdma_write_read $(TOOLS_BLD)/pmrdmactl $(TOOLS_BLD)/pmlog \
	build/bench/pmrdma_bench build/bench/libnodelay.so build/examples/replicated_log

$(TOOLS_BLD)/pmlog: tools/pmlog/pmlog_main.c tools/pmlog/pmlog.c tools/pmlog/pmlog.h \
		tools/include/cli_size.h $(LIB_BLD)/libpmrdma.a | $(RDMA_CORE_DEP)
	@mkdir -p $(@D)
	$(CC) $(TOOLS_CFLAGS) -std=c11 -Werror -I$(TOP)/include/uapi -o $@ tools/pmlog/pmlog_main.c \
		tools/pmlog/pmlog.c $(TOOLS_LDLIBS)

build/bench/pmrdma_bench: bench/pmrdma_bench.c build/bench/bench_conf.h tools/pmlog/pmlog.c \
		tools/pmlog/pmlog.h $(LIB_BLD)/libpmrdma.a | $(RDMA_CORE_DEP)
	@mkdir -p $(@D)
	$(CC) $(TOOLS_CFLAGS) -std=c11 -Werror -I$(TOP)/include/uapi -I$(TOP)/tools/pmlog \
		-I$(@D) -o $@ $< tools/pmlog/pmlog.c $(TOOLS_LDLIBS)

# the benchmark's ports and goals (bench/bench.conf, which the scripts source)
# as #defines; a value that is not a number leaves its name undefined
build/bench/bench_conf.h: bench/bench.conf
	@mkdir -p $(@D)
	sed -n 's/^\([A-Z0-9_]*\)=\([0-9.]*\)\([[:space:]].*\)\{0,1\}$$/#define \1\t\2/p' $< >$@

# LD_PRELOADed into QEMU by vm-run --wire: TCP_NODELAY on the wire's socket
build/bench/libnodelay.so: bench/nodelay.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

PMRDMACTL_SRCS	:= tools/pmrdmactl/pmrdmactl.c tools/pmrdmactl/pmrdmactl_serve.c \
		   tools/pmrdmactl/pmrdmactl_copy.c
$(TOOLS_BLD)/pmrdmactl: $(PMRDMACTL_SRCS) tools/pmrdmactl/pmrdmactl.h tools/include/cli_size.h \
		include/uapi/linux/pmem_rdma.h $(wildcard $(LIB_DIR)/*.h) \
		$(LIB_BLD)/libpmrdma.a | $(RDMA_CORE_DEP)
	@mkdir -p $(@D)
	$(CC) $(TOOLS_CFLAGS) -std=c11 -Werror -I$(TOP)/include/uapi -o $@ $(PMRDMACTL_SRCS) \
		$(TOOLS_LDLIBS)

$(TOOLS_BLD)/rdma_write_read: tools/demo/rdma_write_read.c $(wildcard $(LIB_DIR)/*.h) \
		$(LIB_BLD)/libpmrdma.a | $(RDMA_CORE_DEP)
	@mkdir -p $(@D)
	$(CC) $(TOOLS_CFLAGS) -std=c11 -Werror -o $@ $< $(TOOLS_LDLIBS)

# the documentation's example, built as a user would (pmrdma.h alone, no
# _GNU_SOURCE); the VM's example_test runs it
build/examples/replicated_log: Documentation/examples/replicated_log.c \
		$(LIB_DIR)/pmrdma.h $(LIB_BLD)/libpmrdma.a | $(RDMA_CORE_DEP)
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -I$(TOP)/$(LIB_DIR) -o $@ $< \
		$(TOOLS_LDLIBS)

## make test         build, boot the VM once on each kernel line (TEST_KERNELS,
##                   "6.1 6.12" by default), run every test, print the totals
TEST_KERNELS	?= 6.1 6.12
test: all man
	@PMEM_RDMA_TEST_KERNELS="$(TEST_KERNELS)" scripts/run-tests

## make fuzz         build, boot the VM, fuzz the responder with 10^7 packets and the
##                   kernel target with 2000 connect requests (FUZZ_SEED=N replays
##                   a run, FUZZ_PACKETS=N and FUZZ_REQS=N set the counts)
fuzz: all
	@scripts/vm-run --timeout 7200 -- env \
		PMEM_RDMA_FUZZ_PACKETS=$(or $(FUZZ_PACKETS),10000000) \
		PMEM_RDMA_FUZZ_SECONDS=6400 \
		PMEM_RDMA_FUZZ_REQS=$(or $(FUZZ_REQS),2000) \
		$(if $(FUZZ_SEED),PMEM_RDMA_FUZZ_SEED=$(FUZZ_SEED)) \
		sh -c '$(TOP)/build/selftests/fuzz_test && \
		       $(TOP)/build/selftests/target_cm_test'

## make crash       build, boot the VM, fail the power 1000 times under the log writer,
##                   then 1000 rounds of failures of a replicated log's every copy
##                   (CRASH_COUNT=N sets the count, CRASH_SEED=N replays a run)
crash: all
	@scripts/vm-run --timeout 3600 -- env \
		PMEM_RDMA_CRASH_COUNT=$(or $(CRASH_COUNT),1000) \
		$(if $(CRASH_SEED),PMEM_RDMA_CRASH_SEED=$(CRASH_SEED)) \
		$(TOP)/build/selftests/log_crash_test

## make demo         build, boot the VM, run the seed's log writer on libpmrdma against
##                   the pmem target: both modes, a power failure mid-run, recovery
demo: all
	@scripts/vm-run -- scripts/demo

## make bench        the seed's claims measured side by side: two VMs on a wire, then
##                   one; bench/results/DATE-COMMIT.md and .csv (QUICK=1: a few
##                   iterations, a smoke run; ONLY=keyed,lanes: those sections of
##                   pmrdma_bench on the wire alone; see Documentation/benchmarks.rst)
bench: all
	@scripts/bench $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY))

## make man          the man pages, from Documentation/man/*.md (pandoc), into
##                   build/man/manN, with a .so page for every other name a page
##                   gives; the rxe_flush_dv pages come from the rdma-core patches
MAN_SRC		:= $(wildcard Documentation/man/*.md)
man: $(MAN_SRC) scripts/build-man rdma-core-src
	@scripts/build-man build/man $(MAN_SRC) build/rdma-core-src/providers/rxe/man/*.3.md

## make install      the library (libpmrdma.so.0, symbols versioned), its headers
##                   and pkg-config files, the patched rdma-core's libraries, rxe
##                   provider and headers in LIBDIR/pmem-rdma, pmrdmactl, pmlog,
##                   the demo tools, the man pages; PREFIX=/usr/local, LIBDIR
##                   (PREFIX/lib; PREFIX/lib/TRIPLET for PREFIX=/usr), DESTDIR
##                   as usual (Documentation/install.rst)
## make uninstall    remove what make install put there (same PREFIX, DESTDIR)
## make install-dkms the modules' source for DKMS, in DESTDIR/usr/src/pmem-rdma-VERSION
PREFIX		?= /usr/local
# as cmake's GNUInstallDirs on Debian: the multiarch directory for PREFIX=/usr,
# where Debian's own libraries are, else PREFIX/lib (/usr/local/lib)
MULTIARCH	:= $(shell $(CC) -print-multiarch 2>/dev/null)
LIBDIR		?= $(PREFIX)/lib$(if $(and $(filter /usr /usr/,$(PREFIX)),$(MULTIARCH)),/$(MULTIARCH))
INCLUDEDIR	?= $(PREFIX)/include
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
LIBEXECDIR	?= $(PREFIX)/libexec
MANDIR		?= $(PREFIX)/share/man
VERSION		:= $(shell sed -n 's/^VERSION\t:= //p' $(LIB_DIR)/Makefile)
INSTALL_ENV	= PREFIX=$(PREFIX) LIBDIR=$(LIBDIR) INCLUDEDIR=$(INCLUDEDIR) BINDIR=$(BINDIR) \
		  SBINDIR=$(SBINDIR) LIBEXECDIR=$(LIBEXECDIR) MANDIR=$(MANDIR) VERSION=$(VERSION)
install: man rdma-core-src
	@rm -rf build/inst && mkdir -p build/inst/rdma-core
	@stage=$$(scripts/stage-rdma-core "$(PREFIX)" "$(LIBDIR)" "$(INCLUDEDIR)") && \
		ln -s "$$stage$(INCLUDEDIR)/pmem-rdma" build/inst/rdma-core/include && \
		ln -s "$$stage$(LIBDIR)/pmem-rdma" build/inst/rdma-core/lib && \
		echo "$$stage" >build/inst/stage
	@$(MAKE) --no-print-directory RDMA_CORE_BLD=$(TOP)/build/inst/rdma-core RDMA_CORE_DEP= \
		LIB_BLD=$(TOP)/build/inst/lib TOOLS_BLD=build/inst/bin RUNPATH=$(LIBDIR)/pmem-rdma \
		PMRDMA_LINK=-l:libpmrdma.so.0 TOOLS_LDLIBS_DIR=-L$(TOP)/build/inst/lib \
		lib build/inst/bin/pmrdmactl build/inst/bin/pmlog build/inst/bin/rdma_write_read
	@$(INSTALL_ENV) scripts/install install
uninstall:
	@$(INSTALL_ENV) scripts/install uninstall
install-dkms:
	@$(INSTALL_ENV) scripts/install dkms

## make deb          the Debian packages (pmem-rdma-dkms, libpmrdma0, libpmrdma-dev,
##                   pmem-rdma-tools) and their source, into build/deb, checked
##                   by lintian
deb:
	@scripts/deb

## make sparse       run sparse over both modules
# sparse over every file of both modules (C=2: also files that are up to date)
sparse: rxe_flush_tree pmem_rdma
	$(MAKE) -C $(KDIR) M=$(TOP)/$(RXE_BLD) $(RXE_KBUILD_FLAGS) C=2 modules
	$(MAKE) -C $(KDIR) M=$(TOP)/$(PMEM_BLD) $(KBUILD_FLAGS) C=2 modules

## make checkpatch   run linux-source's checkpatch.pl on our files and patches
checkpatch:
	@perl $(LINUX_SRC)/scripts/checkpatch.pl --no-tree -q --show-types \
		--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES \
		-f $(filter-out %_compat.h,$(RXE_OURS) $(wildcard $(PMEM_DIR)/*.c $(PMEM_DIR)/*.h)) \
		$(wildcard include/uapi/linux/*.h include/uapi/rdma/*.h) \
		$(wildcard $(SELFTESTS)/*.c $(SELFTESTS)/*.h tools/demo/*.c tools/pmrdmactl/*.[ch])
	@# a compat header's point is its kernel version tests
	@perl $(LINUX_SRC)/scripts/checkpatch.pl --no-tree -q --show-types \
		--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES,LINUX_VERSION_CODE,CONSTANT_COMPARISON \
		-f $(wildcard $(RXE_DIR)/*_compat.h $(PMEM_DIR)/*_compat.h)
	@# user space: no kernel __printf() or ARRAY_SIZE(); the Windows layer's
	@# typedefs are its point; "goal" in a string is not a function's name
	@perl $(LINUX_SRC)/scripts/checkpatch.pl --no-tree -q --show-types \
		--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES,NEW_TYPEDEFS,PREFER_DEFINED_ATTRIBUTE_MACRO,ARRAY_SIZE,EMBEDDED_FUNCTION_NAME \
		-f $(wildcard $(LIB_DIR)/*.c $(LIB_DIR)/*.h bench/*.c tools/pmlog/*.[ch])
	@# a patch is read on stdin: given as a path inside a tree, checkpatch
	@# takes the .patch file itself for a new source file
	@for p in $(RXE_PATCHES); do \
		perl $(LINUX_SRC)/scripts/checkpatch.pl --no-tree -q - < $$p || \
			{ echo "in $$p"; exit 1; }; \
	done
	@echo "checkpatch: clean"

## make clean        remove build/ (the download cache is kept)
clean:
	rm -rf build

## make distclean    remove build/ and the download cache ($PMEM_RDMA_CACHE)
distclean: clean
	rm -rf $(PMEM_RDMA_CACHE)

## make help         this list
help:
	@sed -n 's/^## \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

FORCE:
