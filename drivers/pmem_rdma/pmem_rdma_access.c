// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: who may connect to an export.  Every connect request is
 * judged here before anything is allocated for it: its peer address
 * against the path its answers would take and the export's allow-list,
 * then its proof of the export's key
 * (struct pmem_rdma_auth): the MAC, the time window, and the proofs
 * already accepted, which are remembered for as long as they are young
 * enough to be replayed.  The rules and the bytes are those of
 * <linux/pmem_rdma_connect.h>, which the user-space target shares; what
 * is the kernel's is the HMAC, the clock and the lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/ipv6.h>
#include <rdma/ib.h>
#include <rdma/rdma_cm.h>

#include "pmem_rdma.h"

struct pmem_rdma_access {
	struct crypto_shash *hmac;	/* keyed with the export's key */
	struct mutex lock;		/* seen */
	struct pmem_rdma_replay_key seen[PMEM_RDMA_AUTH_REPLAY_MAX];
};

int pmem_rdma_access_init(struct pmem_rdma_exp *exp)
{
	const struct pmem_rdma_policy *p = &exp->req.policy;
	struct pmem_rdma_access *ac;
	int err;

	ac = kzalloc(sizeof(*ac), GFP_KERNEL);
	if (!ac)
		return -ENOMEM;
	mutex_init(&ac->lock);
	exp->access = ac;
	if (!p->key_len)
		return 0;

	ac->hmac = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(ac->hmac)) {
		err = PTR_ERR(ac->hmac);
		ac->hmac = NULL;
		/* not ENOENT, which EXPORT means for the path */
		return err == -ENOENT ? -EOPNOTSUPP : err;
	}
	return crypto_shash_setkey(ac->hmac, p->key, p->key_len);
}

void pmem_rdma_access_free(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_access *ac = exp->access;

	if (!ac)
		return;
	if (ac->hmac)
		crypto_free_shash(ac->hmac);
	kfree(ac);
	exp->access = NULL;
}

/* the peer's address as the connect request gives it, as the policy has it */
static void pmem_rdma_peer_addr(struct rdma_cm_id *id, struct in6_addr *a)
{
	struct sockaddr *sa = (struct sockaddr *)&id->route.addr.dst_addr;

	switch (sa->sa_family) {
	case AF_INET6:
		*a = ((struct sockaddr_in6 *)sa)->sin6_addr;
		break;
	case AF_INET:
		ipv6_addr_set_v4mapped(((struct sockaddr_in *)sa)->sin_addr.s_addr,
				       a);
		break;
	case AF_IB:
		memcpy(a, &((struct sockaddr_ib *)sa)->sib_addr, sizeof(*a));
		break;
	default:
		/* matched by ::/0 alone */
		memset(a, 0, sizeof(*a));
		break;
	}
}

/*
 * The address a connect request claims (rdma_cm's header in the REQ's
 * private data) and the paths the REP and the QP's packets take (the
 * REQ's primary and alternate port GIDs) are separate fields, both the
 * peer's to write: a peer that claims an allowed address must also be
 * answered there.  On RoCE and IB a GID is the address the policy holds.
 * The GRH the REQ arrived with is the CM's alone, not handed to us.
 */
static bool pmem_rdma_path_is_peer(const struct rdma_cm_id *id,
				   const struct in6_addr *a)
{
	const struct rdma_route *rt = &id->route;
	int i;

	if (!rt->path_rec || rt->num_pri_alt_paths < 1)
		return false;
	for (i = 0; i < rt->num_pri_alt_paths; i++)
		if (memcmp(rt->path_rec[i].dgid.raw, a->s6_addr,
			   sizeof(a->s6_addr)))
			return false;
	return true;
}

static bool pmem_rdma_allowed(const struct pmem_rdma_policy *p,
			      const struct in6_addr *a)
{
	u32 i;

	if (!p->nallow)
		return true;
	for (i = 0; i < p->nallow; i++)
		if (ipv6_prefix_equal((const struct in6_addr *)p->allow[i].addr,
				      a, p->allow[i].len))
			return true;
	return false;
}

/* the proof's MAC is the one the key gives for this port and address */
static bool pmem_rdma_mac_ok(struct pmem_rdma_exp *exp,
			     const struct pmem_rdma_auth *au,
			     const struct in6_addr *peer)
{
	SHASH_DESC_ON_STACK(desc, exp->access->hmac);
	u8 m[PMEM_RDMA_AUTH_MAC_INPUT_LEN];
	u8 mac[SHA256_DIGEST_SIZE];
	bool ok;

	pmem_rdma_auth_mac_input(m, au, exp->req.port, peer->s6_addr);
	desc->tfm = exp->access->hmac;
	ok = !crypto_shash_digest(desc, m, sizeof(m), mac) &&
	     !crypto_memneq(mac, au->mac, sizeof(au->mac));
	shash_desc_zero(desc);
	memzero_explicit(mac, sizeof(mac));
	return ok;
}

static u16 pmem_rdma_proof(struct pmem_rdma_exp *exp,
			   const struct rdma_conn_param *conn,
			   const struct in6_addr *peer)
{
	struct pmem_rdma_access *ac = exp->access;
	struct pmem_rdma_auth au;
	u16 reason;

	reason = pmem_rdma_auth_parse(&au, conn->private_data,
				      conn->private_data_len);
	if (reason)
		return reason;
	if (!pmem_rdma_mac_ok(exp, &au, peer))
		return PMEM_RDMA_REJECT_AUTH;
	/* the key is right: what is left is the clock, or a replay */
	mutex_lock(&ac->lock);
	reason = pmem_rdma_auth_take(ac->seen, &au, ktime_get_real_seconds());
	mutex_unlock(&ac->lock);
	return reason;
}

u16 pmem_rdma_access_judge(struct pmem_rdma_exp *exp, struct rdma_cm_id *id,
			   const struct rdma_conn_param *conn)
{
	const struct pmem_rdma_policy *p = &exp->req.policy;
	struct in6_addr peer;

	pmem_rdma_peer_addr(id, &peer);
	if (!pmem_rdma_path_is_peer(id, &peer) || !pmem_rdma_allowed(p, &peer))
		return PMEM_RDMA_REJECT_ADDRESS;
	if (p->key_len)
		return pmem_rdma_proof(exp, conn, &peer);
	return 0;
}
