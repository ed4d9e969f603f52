/*
 * Security Association Database: inbound SAs in an open-addressing hash
 * table keyed by SPI (linear probing, load at most 1/2, deletion by
 * backward shift so that no tombstones pile up); outbound SAs in one binary
 * trie per address family keyed by the remote selectors' prefixes.
 *
 * A trie node keeps every SA entered at exactly its prefix, newest last:
 * the newest wins a lookup (make-before-break on rekey), and removing it
 * brings the previous one back rather than leaving a hole.
 */
#include "esp/sad.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "esp/esp.h"

#define SAD_MIN_SLOTS 64

struct node {
	struct node *child[2];
	struct esp_sa **sas; /* newest last */
	unsigned n, cap;
};

struct sad {
	struct esp_sa **slots; /* inbound; NULL: empty */
	size_t nslots;         /* a power of two */
	size_t n_in;

	struct node *root4, *root6;
	struct esp_sa **outs; /* each outbound SA once, for foreach/count */
	size_t n_out, cap_out;
};

struct sad *sad_new(void)
{
	struct sad *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->slots = calloc(SAD_MIN_SLOTS, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	s->nslots = SAD_MIN_SLOTS;
	return s;
}

static void node_free(struct node *n)
{
	if (!n)
		return;
	node_free(n->child[0]);
	node_free(n->child[1]);
	free(n->sas);
	free(n);
}

void sad_free(struct sad *s)
{
	if (!s)
		return;
	free(s->slots);
	node_free(s->root4);
	node_free(s->root6);
	free(s->outs);
	free(s);
}

/* ---- inbound: hash by SPI ---------------------------------------------- */

static size_t spi_slot(uint32_t spi, size_t nslots)
{
	/* Multiplicative (Fibonacci) hashing spreads sequential SPIs. */
	uint64_t h = (uint64_t)spi * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 32) & (nslots - 1);
}

static void slots_insert(struct esp_sa **slots, size_t nslots, struct esp_sa *sa)
{
	size_t i = spi_slot(sa->spi, nslots);

	while (slots[i])
		i = (i + 1) & (nslots - 1);
	slots[i] = sa;
}

static int slots_grow(struct sad *s)
{
	size_t n = s->nslots * 2;
	struct esp_sa **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i])
			slots_insert(slots, n, s->slots[i]);
	free(s->slots);
	s->slots = slots;
	s->nslots = n;
	return 0;
}

struct esp_sa *sad_lookup_in(const struct sad *s, uint32_t spi)
{
	size_t mask = s->nslots - 1;

	/* The table is never full (load <= 1/2): an empty slot ends the probe. */
	for (size_t i = spi_slot(spi, s->nslots);; i = (i + 1) & mask) {
		struct esp_sa *sa = s->slots[i];

		if (!sa)
			return NULL;
		if (sa->spi == spi)
			return sa;
	}
}

int sad_add_in(struct sad *s, struct esp_sa *sa)
{
	int rc;

	if (sad_lookup_in(s, sa->spi))
		return -EEXIST;
	if ((s->n_in + 1) * 2 > s->nslots && (rc = slots_grow(s)) < 0)
		return rc;
	slots_insert(s->slots, s->nslots, sa);
	s->n_in++;
	return 0;
}

static void remove_in(struct sad *s, struct esp_sa *sa)
{
	size_t mask = s->nslots - 1, i, j;

	for (i = spi_slot(sa->spi, s->nslots);; i = (i + 1) & mask) {
		if (!s->slots[i])
			return;
		if (s->slots[i] == sa)
			break;
	}
	/* Backward-shift deletion (Knuth 6.4 algorithm R): move later members
	 * of the probe run into the hole when their home slot allows it. */
	s->slots[i] = NULL;
	for (j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
		size_t home = spi_slot(s->slots[j]->spi, s->nslots);

		/* Leave it if home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		s->slots[i] = s->slots[j];
		s->slots[j] = NULL;
		i = j;
	}
	s->n_in--;
}

/* ---- outbound: longest prefix per family -------------------------------- */

static bool bit_at(const uint8_t *a, unsigned bit)
{
	return (a[bit / 8] >> (7 - bit % 8)) & 1;
}

static int node_add(struct node **root, const uint8_t *prefix, unsigned plen, struct esp_sa *sa)
{
	struct node **np = root;

	for (unsigned b = 0;; b++) {
		if (!*np && !(*np = calloc(1, sizeof(**np))))
			return -ENOMEM;
		if (b == plen)
			break;
		np = &(*np)->child[bit_at(prefix, b)];
	}
	struct node *n = *np;

	if (n->n == n->cap) {
		unsigned cap = n->cap ? n->cap * 2 : 2;
		struct esp_sa **v = realloc(n->sas, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		n->sas = v;
		n->cap = cap;
	}
	n->sas[n->n++] = sa;
	return 0;
}

/* Remove sa from every node; frees nodes left empty. Returns the node or
 * NULL if it was freed. */
static struct node *node_remove(struct node *n, const struct esp_sa *sa)
{
	if (!n)
		return NULL;
	n->child[0] = node_remove(n->child[0], sa);
	n->child[1] = node_remove(n->child[1], sa);
	for (unsigned i = 0; i < n->n;) {
		if (n->sas[i] == sa) {
			memmove(&n->sas[i], &n->sas[i + 1], (n->n - i - 1) * sizeof(*n->sas));
			n->n--;
		} else {
			i++;
		}
	}
	if (n->n == 0 && !n->child[0] && !n->child[1]) {
		free(n->sas);
		free(n);
		return NULL;
	}
	return n;
}

/* a += 1 over len bytes; false on overflow. */
static bool addr_inc(uint8_t *a, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (++a[i] != 0)
			return true;
	return false;
}

/* Are the low k bits of a all zero (set_ones false) / all one? */
static bool low_bits_are(const uint8_t *a, size_t len, unsigned k, bool ones)
{
	for (unsigned b = 0; b < k; b++) {
		unsigned bit = (unsigned)len * 8 - 1 - b;

		if (bit_at(a, bit) != ones)
			return false;
	}
	return true;
}

static void set_low_bits(uint8_t *a, size_t len, unsigned k)
{
	for (unsigned b = 0; b < k; b++) {
		unsigned bit = (unsigned)len * 8 - 1 - b;

		a[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	}
}

/*
 * Enter [start, end] as the CIDR blocks that cover it exactly: at each step
 * the largest block aligned at start that does not pass end (at most
 * 2 * address-bits blocks).
 */
static int add_range(struct node **root, const struct esp_sel *sel, size_t alen, struct esp_sa *sa)
{
	uint8_t cur[16], last[16];
	unsigned nbits = (unsigned)alen * 8;
	int rc;

	memcpy(cur, sel->start, alen);
	if (memcmp(cur, sel->end, alen) > 0)
		return -EINVAL;
	for (;;) {
		unsigned k = nbits;

		/* Largest k: cur aligned to 2^k and cur + 2^k - 1 <= end. */
		for (;; k--) {
			if (low_bits_are(cur, alen, k, false)) {
				memcpy(last, cur, alen);
				set_low_bits(last, alen, k);
				if (memcmp(last, sel->end, alen) <= 0)
					break;
			}
		}
		if ((rc = node_add(root, cur, nbits - k, sa)) < 0)
			return rc;
		if (memcmp(last, sel->end, alen) == 0)
			return 0;
		memcpy(cur, last, alen);
		if (!addr_inc(cur, alen))
			return 0;
	}
}

static bool outs_has(const struct sad *s, const struct esp_sa *sa)
{
	for (size_t i = 0; i < s->n_out; i++)
		if (s->outs[i] == sa)
			return true;
	return false;
}

static void remove_out(struct sad *s, struct esp_sa *sa)
{
	s->root4 = node_remove(s->root4, sa);
	s->root6 = node_remove(s->root6, sa);
	for (size_t i = 0; i < s->n_out; i++)
		if (s->outs[i] == sa) {
			s->outs[i] = s->outs[--s->n_out];
			break;
		}
}

int sad_add_out(struct sad *s, struct esp_sa *sa)
{
	int rc = 0;

	/* Entering an SA again re-enters it under its current selectors. */
	if (outs_has(s, sa))
		remove_out(s, sa);
	if (s->n_out == s->cap_out) {
		size_t cap = s->cap_out ? s->cap_out * 2 : 8;
		struct esp_sa **v = realloc(s->outs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->outs = v;
		s->cap_out = cap;
	}
	s->outs[s->n_out++] = sa;
	for (unsigned i = 0; i < sa->n_remote && i < ESP_MAX_SELS; i++) {
		const struct esp_sel *sel = &sa->remote_sels[i];

		if (sel->family == AF_INET)
			rc = add_range(&s->root4, sel, 4, sa);
		else if (sel->family == AF_INET6)
			rc = add_range(&s->root6, sel, 16, sa);
		else
			rc = -EINVAL;
		if (rc < 0) {
			remove_out(s, sa); /* all or nothing */
			return rc;
		}
	}
	return 0;
}

struct esp_sa *sad_lookup_out(const struct sad *s, int family, const uint8_t *addr)
{
	const struct node *n;
	struct esp_sa *best = NULL;
	unsigned nbits;

	if (family == AF_INET) {
		n = s->root4;
		nbits = 32;
	} else if (family == AF_INET6) {
		n = s->root6;
		nbits = 128;
	} else {
		return NULL;
	}
	for (unsigned b = 0; n; b++) {
		if (n->n)
			best = n->sas[n->n - 1];
		if (b == nbits)
			break;
		n = n->child[bit_at(addr, b)];
	}
	return best;
}

void sad_remove(struct sad *s, struct esp_sa *sa)
{
	if (sad_lookup_in(s, sa->spi) == sa)
		remove_in(s, sa);
	if (outs_has(s, sa))
		remove_out(s, sa);
}

void sad_foreach(const struct sad *s, void (*fn)(struct esp_sa *sa, void *arg), void *arg)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i])
			fn(s->slots[i], arg);
	for (size_t i = 0; i < s->n_out; i++)
		if (sad_lookup_in(s, s->outs[i]->spi) != s->outs[i])
			fn(s->outs[i], arg);
}

size_t sad_count(const struct sad *s)
{
	size_t n = s->n_in;

	for (size_t i = 0; i < s->n_out; i++)
		if (sad_lookup_in(s, s->outs[i]->spi) != s->outs[i])
			n++;
	return n;
}
