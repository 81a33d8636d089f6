// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: reading a key file (pmrdma_key_read() of pmrdma.h), the one
 * way every program of the project takes a key: a file only its owner may
 * touch, of a length a target takes, and never cut to fit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmrdma.h"
#include "pmrdma_error.h"

/* up to len bytes of fd, to its end: the count, or -errno */
static ssize_t read_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		got += n;
	}
	return got;
}

int pmrdma_key_read(const char *path, void *key, size_t *len, char *msg,
		    size_t msglen)
{
	/* one byte more than a key: a longer file is seen, not cut */
	uint8_t buf[PMRDMA_KEY_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, err;

	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return pmrdma_fail_msg(msg, msglen, err, "%s: %s", path,
				       strerror(-err));
	}
	if (st.st_mode & 077) {
		close(fd);
		return pmrdma_fail_msg(msg, msglen, -EACCES,
				       "%s: the key is readable by others (chmod 600 it)",
				       path);
	}
	n = read_all(fd, buf, sizeof(buf));
	close(fd);
	if (n >= PMRDMA_KEY_MIN && n <= PMRDMA_KEY_MAX) {
		memcpy(key, buf, n);
		*len = n;
	}
	explicit_bzero(buf, sizeof(buf));
	if (n < 0)
		return pmrdma_fail_msg(msg, msglen, n, "%s: %s", path, strerror(-n));
	if (!*len)
		return pmrdma_fail_msg(msg, msglen, -EINVAL,
				       "%s: a key has %d to %d bytes, this file %s%zd",
				       path, PMRDMA_KEY_MIN, PMRDMA_KEY_MAX,
				       n > PMRDMA_KEY_MAX ? "more than " : "",
				       n > PMRDMA_KEY_MAX ? (ssize_t)PMRDMA_KEY_MAX : n);
	return 0;
}
