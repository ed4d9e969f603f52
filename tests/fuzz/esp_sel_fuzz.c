/*
 * libFuzzer target: traffic selectors (esp/sel.c) on arbitrary bytes.
 * esp_sel_parse() reads selector text from the configuration and the
 * control socket; esp_sel_match_pkt() reads every decrypted inner packet
 * (RFC 4301 §5.2) before it reaches the TUN device.
 *
 * Input:
 *	[0]     flags: bit 0 use_src; bit 1 selector from raw bytes instead of
 *	        text; bit 2 restrict protocol and ports as given in [1..5]
 *	[1]     protocol
 *	[2..5]  port_lo, port_hi (big endian)
 *	then    text mode: selector text up to the first '\n' (not included),
 *	        raw mode:  family selector (1 byte: even AF_INET, odd AF_INET6,
 *	                   except 0xff: a family that is neither), start (16), end (16)
 *	then    the inner packet, to its last byte (the fuzzer's own buffer,
 *	        so ASan sees any read past it)
 *
 * Besides memory safety it checks what the header promises: a parsed
 * selector is one CIDR block whose text form parses back to itself, a
 * selector without protocol or port restriction matches exactly the
 * packets esp_sel_has_addr() says it covers, and a restriction only ever
 * narrows the match.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "esp/sel.h"

#define SEL_TEXT_MAX 128 /* longer text is cut: esp_sel_parse() rejects it anyway */

static void die(const char *what, const struct esp_sel *s)
{
	char buf[128];

	fprintf(stderr, "esp_sel_fuzz: %s (selector %s)\n", what, esp_sel_str(s, buf, sizeof(buf)));
	abort();
}

static bool same_range(const struct esp_sel *a, const struct esp_sel *b)
{
	return a->family == b->family && memcmp(a->start, b->start, 16) == 0 &&
	       memcmp(a->end, b->end, 16) == 0;
}

/* The address esp_sel_match_pkt() looks at, read independently of sel.c:
 * RFC 791 (source at 12, destination at 16), RFC 8200 (8 and 24). */
static const uint8_t *pkt_addr(const uint8_t *ip, size_t len, bool use_src, int *family)
{
	if (len >= 20 && ip[0] >> 4 == 4) {
		*family = AF_INET;
		return ip + (use_src ? 12 : 16);
	}
	if (len >= 40 && ip[0] >> 4 == 6) {
		*family = AF_INET6;
		return ip + (use_src ? 8 : 24);
	}
	return NULL;
}

/* What a text selector must satisfy once parsed. */
static void check_parsed(const struct esp_sel *s)
{
	struct esp_sel back;
	char buf[128];
	size_t alen = s->family == AF_INET ? 4 : 16;
	int prefix = esp_sel_prefix(s);

	if (s->family != AF_INET && s->family != AF_INET6)
		die("parsed selector of no family", s);
	if (s->proto != 0 || s->port_lo != 0 || s->port_hi != 65535)
		die("parsed selector restricts protocol or ports", s);
	if (prefix < 0 || prefix > (int)alen * 8)
		die("parsed selector is not one CIDR block", s);
	if (memcmp(s->start, s->end, alen) > 0)
		die("parsed selector ends before it starts", s);
	for (size_t i = alen; i < 16; i++)
		if (s->start[i] || s->end[i])
			die("parsed IPv4 selector has bytes past the address", s);
	esp_sel_str(s, buf, sizeof(buf));
	if (esp_sel_parse(&back, buf) < 0 || !same_range(s, &back) ||
	    esp_sel_prefix(&back) != prefix)
		die("text form does not parse back to the same selector", s);
	if (!esp_sel_has_addr(s, s->family, s->start) || !esp_sel_has_addr(s, s->family, s->end))
		die("selector does not contain its own bounds", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct esp_sel s, any;
	char text[SEL_TEXT_MAX + 1], buf[160];
	const uint8_t *ip;
	size_t len, n;
	bool use_src, raw, restrict_;
	int family;

	if (size < 6)
		return 0;
	use_src = data[0] & 1;
	raw = data[0] & 2;
	restrict_ = data[0] & 4;
	memset(&s, 0, sizeof(s));

	if (raw) {
		if (size < 6 + 33)
			return 0;
		s.family = data[6] == 0xff ? 0xff : data[6] & 1 ? AF_INET6 : AF_INET;
		memcpy(s.start, data + 7, 16);
		memcpy(s.end, data + 23, 16);
		s.port_lo = 0;
		s.port_hi = 65535;
		ip = data + 6 + 33;
		len = size - 6 - 33;
	} else {
		const uint8_t *nl = memchr(data + 6, '\n', size - 6);

		n = nl ? (size_t)(nl - (data + 6)) : size - 6;
		ip = nl ? nl + 1 : data + size;
		len = (size_t)(data + size - ip);
		if (n > SEL_TEXT_MAX)
			n = SEL_TEXT_MAX;
		memcpy(text, data + 6, n);
		text[n] = '\0'; /* an embedded NUL just ends the text early */
		if (esp_sel_parse(&s, text) < 0)
			return 0;
		check_parsed(&s);
	}

	/* Whatever the selector, these must be memory-safe. */
	esp_sel_prefix(&s);
	esp_sel_str(&s, buf, sizeof(buf));
	/* A short buffer of exactly its size: truncated, terminated, and ASan
	 * sees any write past it. */
	size_t cap = 1 + data[1] % 24;
	char *small = malloc(cap);

	if (!small)
		abort();
	if (esp_sel_str(&s, small, cap) != small || strnlen(small, cap) >= cap)
		die("esp_sel_str did not truncate into a short buffer", &s);
	free(small);

	/* Without restriction: a match is exactly "the address is inside". */
	any = s;
	any.proto = 0;
	any.port_lo = 0;
	any.port_hi = 65535;
	const uint8_t *addr = pkt_addr(ip, len, use_src, &family);
	bool m_any = esp_sel_match_pkt(&any, ip, len, use_src);

	if (m_any != (addr && esp_sel_has_addr(&any, family, addr)))
		die("unrestricted match differs from the address check", &any);

	if (restrict_) {
		s.proto = data[1];
		s.port_lo = (uint16_t)(data[2] << 8 | data[3]);
		s.port_hi = (uint16_t)(data[4] << 8 | data[5]);
		esp_sel_str(&s, buf, sizeof(buf));
		if (esp_sel_match_pkt(&s, ip, len, use_src) && !m_any)
			die("a protocol/port restriction widened the match", &s);
	}
	return 0;
}
