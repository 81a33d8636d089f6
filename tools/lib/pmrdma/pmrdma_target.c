// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the kernel target's control device (pmrdma_target.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pmrdma_error.h"
#include "pmrdma_target.h"

struct pmrdma_target {
	int fd;
	char msg[256];
};

/* what an errno means for the request, beyond strerror() */
static const char *hint(unsigned long req, int err)
{
	switch (err) {
	case EPERM:
		return "needs CAP_SYS_ADMIN";
	case EACCES:
		return "cannot open " PMRDMA_TARGET_PATH;
	case EPROTO:
		return "module and tool disagree on the ABI version";
	case EBUSY:
		return req == PMEM_RDMA_IOC_EXPORT ?
		       "overlaps an export, or the device is in use" : NULL;
	case EADDRINUSE:
		return "the port is taken";
	case ENODEV:
		return "no such RDMA device";
	case ENOTBLK:
		return "not a block device";
	case ENOENT:
		return req == PMEM_RDMA_IOC_EXPORT ? "no such device path" :
		       "no such export";
	case EOPNOTSUPP:
		return req == PMEM_RDMA_IOC_POWER_FAIL ? "not an emulated export" :
		       req == PMEM_RDMA_IOC_EXPORT ?
		       "no DAX on the device, no flush for its region, or no rdma_rxe_flush for --emulated or --verify" :
		       NULL;
	case EINVAL:
		return req == PMEM_RDMA_IOC_EXPORT ?
		       "bad range (page-aligned, inside the device), option or allow-list" :
		       req == PMEM_RDMA_IOC_POWER_FAIL ?
		       "bad eviction, flags, or power-on of an export that is not down" :
		       NULL;
	}
	return NULL;
}

static int target_ioctl(struct pmrdma_target *t, unsigned long req, void *arg)
{
	const char *h;
	int err;

	if (!ioctl(t->fd, req, arg)) {
		t->msg[0] = '\0';
		return 0;
	}
	err = errno;
	h = hint(req, err);
	snprintf(t->msg, sizeof(t->msg), "%s%s%s%s", strerror(err),
		 h ? " (" : "", h ? h : "", h ? ")" : "");
	return -err;
}

int pmrdma_target_open(struct pmrdma_target **tp, char *msg, size_t msglen)
{
	struct pmem_rdma_version v = { 0 };
	struct pmrdma_target *t;
	int fd, err;

	*tp = NULL;
	fd = open(PMRDMA_TARGET_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		return pmrdma_fail_msg(msg, msglen, -err, "%s: %s%s", PMRDMA_TARGET_PATH,
				       strerror(err),
				 err == ENOENT ? " (is pmem_rdma.ko loaded?)" : "");
	}
	if (ioctl(fd, PMEM_RDMA_IOC_GET_VERSION, &v)) {
		err = errno;
		close(fd);
		return pmrdma_fail_msg(msg, msglen, -err, "ABI version query: %s",
				       strerror(err));
	}
	if (v.abi_version != PMEM_RDMA_ABI_VERSION) {
		close(fd);
		return pmrdma_fail_msg(msg, msglen, -EPROTO,
				       "the module speaks ABI version %u, this library %u",
				       v.abi_version, PMEM_RDMA_ABI_VERSION);
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return pmrdma_fail_msg(msg, msglen, -ENOMEM, "%s", strerror(ENOMEM));
	}
	t->fd = fd;
	*tp = t;
	return 0;
}

void pmrdma_target_close(struct pmrdma_target **t)
{
	if (!*t)
		return;
	close((*t)->fd);
	free(*t);
	*t = NULL;
}

const char *pmrdma_target_errormsg(const struct pmrdma_target *t)
{
	return t ? t->msg : "no target";
}

int pmrdma_target_export(struct pmrdma_target *t,
			 struct pmem_rdma_export_req *e)
{
	return target_ioctl(t, PMEM_RDMA_IOC_EXPORT, e);
}

int pmrdma_target_unexport(struct pmrdma_target *t, uint32_t id)
{
	struct pmem_rdma_unexport u = { .id = id };

	return target_ioctl(t, PMEM_RDMA_IOC_UNEXPORT, &u);
}

int pmrdma_target_list(struct pmrdma_target *t,
		       struct pmem_rdma_export_info **infop, uint32_t *count)
{
	struct pmem_rdma_export_info *info = NULL;
	struct pmem_rdma_list l = { 0 };
	int err;

	/* exports may come between the count and the copy: ask until it fits */
	for (;;) {
		uint32_t room = l.count + 4;

		free(info);
		info = calloc(room, sizeof(*info));
		if (!info)
			return -ENOMEM;
		l.count = room;
		l.entries = (uintptr_t)info;
		err = target_ioctl(t, PMEM_RDMA_IOC_LIST, &l);
		if (err) {
			free(info);
			return err;
		}
		if (l.count <= room)
			break;
	}
	*infop = info;
	*count = l.count;
	return 0;
}

int pmrdma_target_stats(struct pmrdma_target *t, struct pmem_rdma_stats *st)
{
	return target_ioctl(t, PMEM_RDMA_IOC_STATS, st);
}

int pmrdma_target_power_fail(struct pmrdma_target *t,
			     struct pmem_rdma_power_fail *pf)
{
	return target_ioctl(t, PMEM_RDMA_IOC_POWER_FAIL, pf);
}
