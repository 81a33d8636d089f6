/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stand-in for the provider's rxe_flush_dv_query_device(), which
 * libpmrdma asks what the local device can flush-and-verify with: the
 * test binary's definition is the one the static libpmrdma.a binds to.
 * It answers as librxe does, unless a test sets lib_dv_answer - a device
 * that the VM cannot have (another driver version, fewer algorithms, a
 * shorter VERIFY).  A map reads the answer when it is made.
 *
 * Header only, and in one file of a test binary: it defines the call.
 */
#ifndef PMEM_RDMA_LIB_DV_HELPERS_H
#define PMEM_RDMA_LIB_DV_HELPERS_H

#include <dlfcn.h>
#include <errno.h>

#include <infiniband/rxe_flush_dv.h>

/* what the device answers while set; NULL: librxe's own answer */
static const struct rxe_flush_dv_device_attr *lib_dv_answer;

typedef int (*lib_dv_query_fn)(struct ibv_context *,
			       struct rxe_flush_dv_device_attr *);

int rxe_flush_dv_query_device(struct ibv_context *context,
			      struct rxe_flush_dv_device_attr *attr)
{
	lib_dv_query_fn real = NULL;

	if (lib_dv_answer) {
		*attr = *lib_dv_answer;
		return 0;
	}
	/*
	 * librxe itself: not among the binary's libraries when this
	 * definition is its only use of them (--as-needed dropped it)
	 */
	*(void **)&real = dlsym(RTLD_NEXT, "rxe_flush_dv_query_device");
	if (!real) {
		void *librxe = dlopen("librxe.so.1", RTLD_NOW);

		if (librxe)
			*(void **)&real = dlsym(librxe, "rxe_flush_dv_query_device");
	}
	return real ? real(context, attr) : EOPNOTSUPP;
}

#endif /* PMEM_RDMA_LIB_DV_HELPERS_H */
