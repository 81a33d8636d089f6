// SPDX-License-Identifier: GPL-2.0
/*
 * libnodelay.so - LD_PRELOAD into QEMU so that the TCP socket of a
 * "-netdev socket" wire between two VMs has TCP_NODELAY: QEMU 7.2 leaves
 * Nagle on, and every multi-frame burst (a READ response, a large WRITE)
 * then waits ~40 ms for the peer's delayed ACK (../shared/notes/test-vm.md).
 * connect(), accept() and accept4() set it on every TCP socket they give.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd)
{
	int one = 1;

	/* not TCP (a UNIX socket, say): refused, and nothing else changes */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* the libc function this one stands in for */
static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int fd, const struct sockaddr *sa, socklen_t len) =
		next("connect");

	nodelay(fd);
	return real(fd, sa, len);
}

int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	int (*real)(int fd, struct sockaddr *sa, socklen_t *len) =
		next("accept");
	int c = real(fd, sa, len);

	if (c >= 0)
		nodelay(c);
	return c;
}

int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int (*real)(int fd, struct sockaddr *sa, socklen_t *len, int flags) =
		next("accept4");
	int c = real(fd, sa, len, flags);

	if (c >= 0)
		nodelay(c);
	return c;
}
