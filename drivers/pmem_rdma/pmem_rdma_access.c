// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: who may connect to an export.  Every connect request is
 * judged here before anything is allocated for it: its peer address
 * against the path its answers would take and the export's allow-list,
 * then its proof of the export's key
 * (struct pmem_rdma_auth): the MAC, the time window, and the proofs
 * already accepted, which are remembered for as long as they are young
 * enough to be replayed.  That memory is the port's, not the export's:
 * unexporting and exporting the port again within a window must not
 * make its proofs good again.  An accepted peer of an export with a key
 * gets the target's proof back (struct pmem_rdma_accept).  The rules and
 * the bytes are those of <linux/pmem_rdma_connect.h>, which the
 * user-space target shares; what is the kernel's is the HMAC, the clocks
 * and the locks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/ipv6.h>
#include <rdma/ib.h>
#include <rdma/rdma_cm.h>

#include "pmem_rdma.h"

/* the proofs taken on one port, kept while an export uses it or holds one */
struct pmem_rdma_replay {
	struct list_head node;		/* pmem_rdma_replays */
	u16 port;
	unsigned int users;		/* exports of the port */
	struct mutex lock;		/* seen */
	struct pmem_rdma_replay_key seen[PMEM_RDMA_AUTH_REPLAY_MAX];
};

static LIST_HEAD(pmem_rdma_replays);
static DEFINE_MUTEX(pmem_rdma_replays_lock);	/* the list, users */

struct pmem_rdma_access {
	struct crypto_shash *hmac;	/* keyed with the export's key */
	struct pmem_rdma_replay *replay;
};

/* seconds that go on in suspend and never step, as the wall clock may */
static u64 pmem_rdma_mono(void)
{
	return ktime_get_boottime_seconds();
}

/* whether an unused memory still holds a proof anyone could replay */
static bool pmem_rdma_replay_holds(struct pmem_rdma_replay *r, u64 now,
				   u64 mono)
{
	unsigned int i;

	for (i = 0; i < PMEM_RDMA_AUTH_REPLAY_MAX; i++)
		if (r->seen[i].time &&
		    (pmem_rdma_replay_young(&r->seen[i], now, mono) ||
		     r->seen[i].young_until + PMEM_RDMA_AUTH_WINDOW > mono))
			return true;
	return false;
}

/* the port's memory, as the last export of the port left it */
static struct pmem_rdma_replay *pmem_rdma_replay_get(u16 port)
{
	u64 now = ktime_get_real_seconds(), mono = pmem_rdma_mono();
	struct pmem_rdma_replay *r, *tmp, *mine = NULL;

	mutex_lock(&pmem_rdma_replays_lock);
	list_for_each_entry_safe(r, tmp, &pmem_rdma_replays, node) {
		if (r->port == port) {
			mine = r;
		} else if (!r->users && !pmem_rdma_replay_holds(r, now, mono)) {
			list_del(&r->node);
			kvfree(r);
		}
	}
	if (!mine) {
		mine = kvzalloc(sizeof(*mine), GFP_KERNEL);
		if (mine) {
			mine->port = port;
			mutex_init(&mine->lock);
			list_add(&mine->node, &pmem_rdma_replays);
		}
	}
	if (mine)
		mine->users++;
	mutex_unlock(&pmem_rdma_replays_lock);
	return mine;
}

static void pmem_rdma_replay_put(struct pmem_rdma_replay *r)
{
	mutex_lock(&pmem_rdma_replays_lock);
	r->users--;
	mutex_unlock(&pmem_rdma_replays_lock);
}

int pmem_rdma_access_init(struct pmem_rdma_exp *exp)
{
	const struct pmem_rdma_policy *p = &exp->req.policy;
	struct pmem_rdma_access *ac;
	int err;

	ac = kzalloc(sizeof(*ac), GFP_KERNEL);
	if (!ac)
		return -ENOMEM;
	exp->access = ac;
	if (!p->key_len)
		return 0;

	ac->replay = pmem_rdma_replay_get(exp->req.port);
	if (!ac->replay)
		return -ENOMEM;

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
	if (ac->replay)
		pmem_rdma_replay_put(ac->replay);
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

/*
 * The target's own address in the connect request (its destination), in
 * the form of the proof's MAC input; an address of another family, which
 * no peer could have signed, all zero.
 */
static void pmem_rdma_target_addr(struct rdma_cm_id *id, struct in6_addr *a)
{
	struct sockaddr *sa = (struct sockaddr *)&id->route.addr.src_addr;

	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET6)
		*a = ((struct sockaddr_in6 *)sa)->sin6_addr;
	else if (sa->sa_family == AF_INET)
		ipv6_addr_set_v4mapped(((struct sockaddr_in *)sa)->sin_addr.s_addr,
				       a);
	else if (sa->sa_family == AF_IB)
		memcpy(a, &((struct sockaddr_ib *)sa)->sib_addr, sizeof(*a));
}

/* mac: the first PMEM_RDMA_AUTH_MAC_LEN bytes of the export's HMAC of m */
static int pmem_rdma_hmac(struct pmem_rdma_exp *exp, const u8 *m,
			  unsigned int len, u8 *mac)
{
	SHASH_DESC_ON_STACK(desc, exp->access->hmac);
	u8 md[SHA256_DIGEST_SIZE];
	int err;

	desc->tfm = exp->access->hmac;
	err = crypto_shash_digest(desc, m, len, md);
	shash_desc_zero(desc);
	if (!err)
		memcpy(mac, md, PMEM_RDMA_AUTH_MAC_LEN);
	memzero_explicit(md, sizeof(md));
	return err;
}

/* the proof's MAC is the one the key gives for this port and both addresses */
static bool pmem_rdma_mac_ok(struct pmem_rdma_exp *exp,
			     const struct pmem_rdma_auth *au,
			     const struct in6_addr *peer,
			     const struct in6_addr *target)
{
	u8 m[PMEM_RDMA_AUTH_MAC_INPUT_LEN];
	u8 want[PMEM_RDMA_AUTH_MAC_LEN];
	bool ok;

	pmem_rdma_auth_mac_input(m, au, exp->req.port, peer->s6_addr,
				 target->s6_addr);
	ok = !pmem_rdma_hmac(exp, m, sizeof(m), want) &&
	     !crypto_memneq(want, au->mac, sizeof(want));
	memzero_explicit(want, sizeof(want));
	return ok;
}

static u16 pmem_rdma_proof(struct pmem_rdma_exp *exp, struct rdma_cm_id *id,
			   const struct rdma_conn_param *conn,
			   const struct in6_addr *peer)
{
	struct pmem_rdma_replay *r = exp->access->replay;
	struct pmem_rdma_auth au;
	struct in6_addr target;
	u16 reason;

	reason = pmem_rdma_auth_parse(&au, conn->private_data,
				      conn->private_data_len);
	if (reason)
		return reason;
	pmem_rdma_target_addr(id, &target);
	if (!pmem_rdma_mac_ok(exp, &au, peer, &target))
		return PMEM_RDMA_REJECT_AUTH;
	/* the key is right: what is left is the clock, or a replay */
	mutex_lock(&r->lock);
	reason = pmem_rdma_auth_take(r->seen, &au, ktime_get_real_seconds(),
				     pmem_rdma_mono());
	mutex_unlock(&r->lock);
	return reason;
}

u16 pmem_rdma_access_judge(struct pmem_rdma_exp *exp, struct rdma_cm_id *id,
			   const struct rdma_conn_param *conn)
{
	const struct pmem_rdma_policy *p = &exp->req.policy;
	struct in6_addr peer;
	u16 reason = 0;

	pmem_rdma_peer_addr(id, &peer);
	if (!pmem_rdma_path_is_peer(id, &peer) || !pmem_rdma_allowed(p, &peer))
		return PMEM_RDMA_REJECT_ADDRESS;
	if (p->key_len)
		reason = pmem_rdma_proof(exp, id, conn, &peer);
	return reason ?: pmem_rdma_keyed_judge(exp, conn);
}

int pmem_rdma_access_accept(struct pmem_rdma_exp *exp,
			    const struct rdma_conn_param *req,
			    struct pmem_rdma_accept *acc)
{
	u8 a[PMEM_RDMA_ACCEPT_MAC_INPUT_LEN];
	struct pmem_rdma_auth au;
	int err;

	if (!exp->req.policy.key_len)
		return sizeof(acc->desc);
	/* judged good a moment ago: the proof is there, whole */
	if (pmem_rdma_auth_parse(&au, req->private_data, req->private_data_len))
		return -EINVAL;
	pmem_rdma_accept_mac_input(a, &au, &acc->desc);
	err = pmem_rdma_hmac(exp, a, sizeof(a), acc->mac);
	/* the accept ends at the proof; a keyed export's goes on */
	return err ?: offsetof(struct pmem_rdma_accept, key_draw);
}

/* module unload: no export is left, and every port's memory goes */
void pmem_rdma_access_exit(void)
{
	struct pmem_rdma_replay *r, *tmp;

	list_for_each_entry_safe(r, tmp, &pmem_rdma_replays, node) {
		list_del(&r->node);
		kvfree(r);
	}
}
