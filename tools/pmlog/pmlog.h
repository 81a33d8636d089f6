/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * pmlog - the seed's log writer, on libpmrdma: a circular log of records
 * in a map (local, remote or replicated), each record made durable before
 * the log pointer that covers it.
 *
 * Layout of the map:
 *   [0, 8)        the log pointer: how many records were ever committed,
 *                 written with pmrdma_atomic_write() (one 8-byte store,
 *                 never torn), alone in its cache line
 *   [64, 128)     the superblock: magic, slot size, slot count, CRC32C
 *   [4096, ...)   nslots slots; record n lives in slot n % nslots as
 *                 {CRC32C of the rest, length, n} + payload
 *
 * An append writes the record into its slot, flushes it, atomic-writes the
 * pointer to n + 1 and flushes that.  In PMLOG_PIPELINED mode the four are
 * posted back to back and waited for once: the connection's order (each
 * flush is done before the next request runs) is what makes the pointer
 * safe.  PMLOG_WAIT waits after the record's flush (the "pipeline bubble"),
 * PMLOG_VERIFY flush-and-verifies the record (CRC32C) before the pointer.
 *
 * The pointer covers the last nslots - 1 records: the slot of the record
 * being written is the oldest one's, retired by the time the pointer moves.
 * Recovery reads the pointer and checks every record it covers.
 */
#ifndef PMLOG_H
#define PMLOG_H

#include <stddef.h>
#include <stdint.h>

#include "pmrdma.h"

#define PMLOG_HDR		16	/* a slot's header */
#define PMLOG_DATA_OFF		4096	/* the first slot */
#define PMLOG_SLOT_MIN		64

enum pmlog_mode {
	PMLOG_PIPELINED,	/* record, pointer: one wait */
	PMLOG_WAIT,		/* a wait after the record's flush */
	PMLOG_VERIFY,		/* the record flush-and-verified first */
};

struct pmlog;

/* what recovery found */
struct pmlog_recovery {
	uint64_t pointer;	/* records ever committed */
	uint64_t first;		/* the oldest record still covered */
	uint64_t valid;		/* covered records that check out */
	uint64_t invalid;	/* covered records that do not: a lost write */
	uint64_t first_invalid;	/* the first of those */
};

/*
 * Make an empty log of nslots slots of slot bytes (a multiple of 64, at
 * least PMLOG_SLOT_MIN) at the start of the map, durably; nslots 0: as
 * many as fit.  0 or a negative errno (the map's, with pmrdma_errormsg());
 * -EINVAL when fewer than two slots, or more than fit.
 */
int pmlog_format(struct pmrdma_map *map, size_t slot, uint32_t nslots);

/*
 * Open the log in map and recover it: rec says what the pointer covers.
 * -EBADMSG when the superblock is not a log's; -EUCLEAN when a covered
 * record does not check out (rec says which): the log is open either way
 * with that pointer, appends continue after it.
 */
int pmlog_open(struct pmlog **log, struct pmrdma_map *map,
	       struct pmlog_recovery *rec);
void pmlog_close(struct pmlog **log);

/* the payload a record may have */
size_t pmlog_max_record(const struct pmlog *log);
/* the number the next record gets (the pointer once it is committed) */
uint64_t pmlog_next(const struct pmlog *log);

/*
 * Append a record of len bytes (1..pmlog_max_record()), durable when this
 * returns 0, or -ENOLINK: durable and committed, but a replica dropped out
 * of sync on the way (the log goes on with the others).  The map's errno
 * otherwise (the record may or may not be there after a crash, and the
 * log must be reopened).
 */
int pmlog_append(struct pmlog *log, const void *data, size_t len,
		 enum pmlog_mode mode);

/* record n's payload if the pointer covers it and it checks out, or NULL */
const void *pmlog_record(const struct pmlog *log, uint64_t n, size_t *len);

/*
 * A sample record n of up to max bytes into buf (its length returned),
 * text whose length and bytes follow from n alone: what the demo and the
 * crash test write, so that recovery can check every record's contents.
 */
size_t pmlog_sample(uint64_t n, char *buf, size_t max);

#endif /* PMLOG_H */
