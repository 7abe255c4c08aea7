/*
 * proxy.h - the PROXY protocol header, versions 1 and 2, as HAProxy's
 * proxy-protocol.txt specifies it: parse and build, pure functions, no
 * sockets. Unit-tested on its own (tests/test_proxy.c) and fuzzed.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_PROXY_H
#define SEQECHO_PROXY_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct addr_prefix;

/* Which header a listener requires. */
#define PROXY_NONE		0
#define PROXY_V1		1
#define PROXY_V2		2
#define PROXY_ANY		3	/* either */

#define PROXY_V1_MAX		107	/* bytes, CRLF included */
#define PROXY_V2_FIXED		16	/* signature, version, family, length */
#define PROXY_V2_LEN_MAX	4096	/* the most length this side accepts */
#define PROXY_HEADER_MAX	(PROXY_V2_FIXED + PROXY_V2_LEN_MAX)

/* What proxy_parse found. */
enum proxy_status {
	PROXY_MORE,		/* need more bytes: at least *need in all */
	PROXY_DONE,		/* a whole valid header of *used bytes */
	PROXY_BAD		/* malformed: *why says what was wrong */
};

struct proxy_header {
	int			 version;	/* 1 or 2 */
	int			 local;		/* v2 LOCAL or v1 UNKNOWN */
	struct sockaddr_storage	 src;		/* the client, unless local */
	struct sockaddr_storage	 dst;		/* its destination */
};

/*
 * Parse the len bytes at buf, the first bytes of a connection on a
 * listener that accepts `accept` (PROXY_V1, _V2 or _ANY). PROXY_MORE sets
 * *need to how many bytes, from the start, to have before calling again
 * (a v2 header is read exactly: 16 bytes, then 16 + length; a v1 header
 * up to its LF, at most PROXY_V1_MAX: *need is then len + 1). PROXY_DONE
 * fills *h and sets *used; the bytes after it are the client's data.
 * PROXY_BAD sets *why to a short phrase for the log ("bad signature",
 * "v1 header over 107 bytes", "CRC32C mismatch", ...).
 */
enum proxy_status proxy_parse(const uint8_t *buf, size_t len, int accept,
		    struct proxy_header *h, size_t *need, size_t *used,
		    const char **why);

/*
 * Build a header naming src -> dst (both AF_INET or both AF_INET6) into
 * buf (at least PROXY_V1_MAX or PROXY_V2_FIXED + 36 bytes); returns its
 * length. version is PROXY_V1 or PROXY_V2; v2 is a PROXY command, TCP.
 */
size_t		 proxy_build(int version, const struct sockaddr *src,
		    const struct sockaddr *dst, uint8_t *buf, size_t size);

/* CRC32C (Castagnoli), as the v2 CRC32C TLV carries it. */
uint32_t	 proxy_crc32c(const uint8_t *, size_t);

/* Whether the address is inside one of the n prefixes. */
int		 proxy_trusted(const struct sockaddr *,
		    const struct addr_prefix *, size_t);

/* "none", "v1", "v2", "any" and back; -1 when unknown. */
const char	*proxy_mode_name(int);
int		 proxy_mode_parse(const char *);

#endif
