// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * pmlog: the seed's log writer on libpmrdma (pmlog.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmlog.h"

_Static_assert(PMLOG_HDR == 16, "a slot header is 16 bytes");

#define PMLOG_MAGIC	0x31474f4c4d504d50ULL	/* "PMPMLOG1" */
#define SUPER_OFF	64

struct pmlog_super {
	uint64_t magic;
	uint32_t slot, nslots;
	uint32_t reserved, crc;		/* CRC32C of the fields before */
};

struct pmlog_hdr {
	uint32_t crc;			/* CRC32C of the rest and the payload */
	uint32_t len;
	uint64_t n;
};

struct pmlog {
	struct pmrdma_map *map;
	char *base;
	uint32_t slot, nslots;
	uint64_t next;
};

/* the CRC covers what follows it in the slot: len, n and the payload */
static uint32_t record_crc(const struct pmlog_hdr *h)
{
	return pmrdma_crc32c(&h->len, PMLOG_HDR - sizeof(h->crc) + h->len);
}

static char *slot_of(const struct pmlog *log, uint64_t n)
{
	return log->base + PMLOG_DATA_OFF + (n % log->nslots) * log->slot;
}

int pmlog_format(struct pmrdma_map *map, size_t slot, uint32_t want)
{
	char *base = pmrdma_map_get_address(map);
	size_t size = pmrdma_map_get_size(map);
	struct pmlog_super sb = { .magic = PMLOG_MAGIC };
	uint64_t nslots;
	int err;

	if (slot < PMLOG_SLOT_MIN || slot % 64 || size < PMLOG_DATA_OFF)
		return -EINVAL;
	nslots = (size - PMLOG_DATA_OFF) / slot;
	if (want && want <= nslots)
		nslots = want;
	else if (want)
		return -EINVAL;
	if (nslots < 2 || nslots > UINT32_MAX)
		return -EINVAL;
	sb.slot = slot;
	sb.nslots = nslots;
	sb.crc = pmrdma_crc32c(&sb, offsetof(struct pmlog_super, reserved));
	memcpy(base + SUPER_OFF, &sb, sizeof(sb));
	err = pmrdma_flush(map, base + SUPER_OFF, sizeof(sb));
	if (!err)
		err = pmrdma_atomic_write(map, 0, 0);
	return err ? err : pmrdma_flush(map, base, 8);
}

static bool record_ok(const struct pmlog *log, uint64_t n,
		      const struct pmlog_hdr **hp)
{
	const struct pmlog_hdr *h = (const void *)slot_of(log, n);

	*hp = h;
	return h->n == n && h->len && h->len <= pmlog_max_record(log) &&
	       h->crc == record_crc(h);
}

int pmlog_open(struct pmlog **logp, struct pmrdma_map *map,
	       struct pmlog_recovery *rec)
{
	char *base = pmrdma_map_get_address(map);
	const struct pmlog_hdr *h;
	struct pmlog_super sb;
	struct pmlog *log;
	uint64_t n;

	*logp = NULL;
	memset(rec, 0, sizeof(*rec));
	if (pmrdma_map_get_size(map) < PMLOG_DATA_OFF)
		return -EBADMSG;
	memcpy(&sb, base + SUPER_OFF, sizeof(sb));
	if (sb.magic != PMLOG_MAGIC || sb.slot < PMLOG_SLOT_MIN ||
	    sb.crc != pmrdma_crc32c(&sb, offsetof(struct pmlog_super, reserved)) ||
	    PMLOG_DATA_OFF + (uint64_t)sb.slot * sb.nslots > pmrdma_map_get_size(map))
		return -EBADMSG;
	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	*log = (struct pmlog){
		.map = map, .base = base, .slot = sb.slot, .nslots = sb.nslots,
	};
	rec->pointer = __atomic_load_n((uint64_t *)base, __ATOMIC_ACQUIRE);
	rec->first = rec->pointer > sb.nslots - 1 ?
		     rec->pointer - (sb.nslots - 1) : 0;
	for (n = rec->first; n < rec->pointer; n++) {
		if (record_ok(log, n, &h))
			rec->valid++;
		else if (!rec->invalid++)
			rec->first_invalid = n;
	}
	log->next = rec->pointer;
	*logp = log;
	return rec->invalid ? -EUCLEAN : 0;
}

void pmlog_close(struct pmlog **log)
{
	free(*log);
	*log = NULL;
}

size_t pmlog_max_record(const struct pmlog *log)
{
	return log->slot - PMLOG_HDR;
}

uint64_t pmlog_next(const struct pmlog *log)
{
	return log->next;
}

const void *pmlog_record(const struct pmlog *log, uint64_t n, size_t *len)
{
	const struct pmlog_hdr *h;

	if (n >= log->next || log->next - n > log->nslots - 1 ||
	    !record_ok(log, n, &h))
		return NULL;
	*len = h->len;
	return h + 1;
}

/* a step's error, but a replica that dropped out only noted in *lost */
static int replica_lost(int err, bool *lost)
{
	if (err != -ENOLINK)
		return err;
	*lost = true;
	return 0;
}

int pmlog_append(struct pmlog *log, const void *data, size_t len,
		 enum pmlog_mode mode)
{
	struct pmlog_hdr *h = (void *)slot_of(log, log->next);
	struct pmrdma_range rec = { h, PMLOG_HDR + len };
	struct pmrdma_range ptr = { log->base, 8 };
	struct pmrdma_map *map = log->map;
	bool lost = false;
	int err;

	if (!len || len > pmlog_max_record(log))
		return -EINVAL;
	h->n = log->next;
	h->len = len;
	memcpy(h + 1, data, len);
	h->crc = record_crc(h);

	switch (mode) {
	case PMLOG_PIPELINED:
		err = pmrdma_flush_async(map, &rec, 1);
		break;
	case PMLOG_WAIT:
		err = pmrdma_flush_ranges(map, &rec, 1);
		break;
	case PMLOG_VERIFY:
		err = pmrdma_flush_verify(map, &rec, 1, PMRDMA_VERIFY_ALG_CRC32C);
		break;
	default:
		return -EINVAL;
	}
	err = replica_lost(err, &lost);
	if (!err)
		err = replica_lost(pmrdma_atomic_write(map, 0, log->next + 1),
				   &lost);
	if (!err)
		err = replica_lost(pmrdma_flush_async(map, &ptr, 1), &lost);
	if (!err)
		err = replica_lost(pmrdma_drain(map), &lost);
	if (err)
		return err;
	log->next++;
	return lost ? -ENOLINK : 0;
}

size_t pmlog_sample(uint64_t n, char *buf, size_t max)
{
	uint64_t z = (n + 1) * 0x9e3779b97f4a7c15ULL;
	size_t len, i;
	int head;

	if (!max)
		return 0;
	z ^= z >> 31;
	len = 1 + z % max;
	head = snprintf(buf, len, "record %llu: ", (unsigned long long)n);
	for (i = head < 0 ? 0 : (size_t)head; i < len; i++)
		buf[i] = 'a' + (n + i) % 26;
	return len;
}
