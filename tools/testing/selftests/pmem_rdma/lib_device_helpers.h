/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A device without some of its capabilities: libpmrdma asks the device of
 * a route what it can do with ibv_query_device_ex(), an inline call
 * through the context's ops, on librdmacm's context of the device.  Put
 * in front of that op of every such context, a filter takes bits out of
 * device_cap_flags_ex: an rxe device without ATOMIC WRITE, as hardware
 * RNICs are today, which the VM cannot have otherwise.  A map reads the
 * capabilities when it is made.
 *
 * Header only, and in one file of a test binary.
 */
#ifndef PMEM_RDMA_LIB_DEVICE_HELPERS_H
#define PMEM_RDMA_LIB_DEVICE_HELPERS_H

#include <errno.h>
#include <stdbool.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

/* the IB_UVERBS_DEVICE_* bits the devices do not report */
static uint64_t lib_device_hidden;

typedef int (*lib_query_device_ex_fn)(struct ibv_context *,
				      const struct ibv_query_device_ex_input *,
				      struct ibv_device_attr_ex *, size_t);
static lib_query_device_ex_fn lib_real_query_device_ex;

static int lib_query_device_ex_filter(struct ibv_context *ctx,
				      const struct ibv_query_device_ex_input *in,
				      struct ibv_device_attr_ex *attr,
				      size_t size)
{
	int ret = lib_real_query_device_ex(ctx, in, attr, size);

	if (!ret)
		attr->device_cap_flags_ex &= ~lib_device_hidden;
	return ret;
}

/* from now on no device reports caps (0: all again); 0 or -errno */
static inline int lib_device_hide(uint64_t caps)
{
	struct ibv_context **devs = rdma_get_devices(NULL);
	struct verbs_context *v;
	int i;

	if (!devs)
		return -errno;
	for (i = 0; devs[i]; i++) {
		v = verbs_get_ctx_op(devs[i], query_device_ex);
		if (v && v->query_device_ex != lib_query_device_ex_filter) {
			lib_real_query_device_ex = v->query_device_ex;
			v->query_device_ex = lib_query_device_ex_filter;
		}
	}
	rdma_free_devices(devs);
	lib_device_hidden = caps;
	return 0;
}

/*
 * Every RDMA device makes send queues of depth requests and CQs that hold
 * a completion of each; false also when a device cannot be asked.
 */
static inline bool lib_devices_give_sq(unsigned int depth)
{
	struct ibv_context **devs = rdma_get_devices(NULL);
	struct ibv_device_attr a;
	bool give = devs;
	int i;

	for (i = 0; give && devs[i]; i++)
		give = !ibv_query_device(devs[i], &a) &&
		       a.max_qp_wr >= 0 && (unsigned int)a.max_qp_wr >= depth &&
		       a.max_cqe >= 0 && (unsigned int)a.max_cqe >= depth;
	if (devs)
		rdma_free_devices(devs);
	return give;
}

#endif /* PMEM_RDMA_LIB_DEVICE_HELPERS_H */
