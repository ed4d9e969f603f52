/* The engine's SA tables; see satab.h. */
#include "ike/satab.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "ike/sa.h"

/* ---- intrusive hash chains ---------------------------------------------- */

static int htab_grow(struct htab *t)
{
	size_t cap = t->cap ? 2 * t->cap : 16;
	struct hlink **b = calloc(cap, sizeof(*b));

	if (!b)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		struct hlink *l = t->b[i], *next;

		for (; l; l = next) {
			next = l->next;
			l->next = b[l->h & (cap - 1)];
			b[l->h & (cap - 1)] = l;
		}
	}
	free(t->b);
	t->b = b;
	t->cap = cap;
	return 0;
}

int htab_add(struct htab *t, struct hlink *l, uint64_t h)
{
	/* A load of one entry a bucket keeps chains short; failing to grow
	 * only makes them longer, so it is not an error past the first. */
	if ((t->n >= t->cap && htab_grow(t) < 0 && !t->cap))
		return -1;
	l->h = h;
	l->next = t->b[h & (t->cap - 1)];
	t->b[h & (t->cap - 1)] = l;
	t->n++;
	return 0;
}

void htab_del(struct htab *t, struct hlink *l)
{
	struct hlink **pp;

	if (!t->cap)
		return;
	for (pp = &t->b[l->h & (t->cap - 1)]; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			l->next = NULL;
			t->n--;
			return;
		}
}

struct hlink *htab_first(const struct htab *t, uint64_t h)
{
	struct hlink *l;

	if (!t->cap)
		return NULL;
	for (l = t->b[h & (t->cap - 1)]; l && l->h != h; l = l->next)
		;
	return l;
}

struct hlink *htab_next(const struct hlink *l, uint64_t h)
{
	for (l = l->next; l && l->h != h; l = l->next)
		;
	return (struct hlink *)l;
}

void htab_free(struct htab *t)
{
	free(t->b);
	memset(t, 0, sizeof(*t));
}

/* ---- keys ----------------------------------------------------------------- */

static uint64_t hash(const struct satab *t, const void *data, size_t len)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(out, data, len, t->key);
	memcpy(&v, out, sizeof(v));
	return v;
}

static uint64_t hash_u64(const struct satab *t, uint64_t v, uint8_t tag)
{
	uint8_t b[9];

	memcpy(b, &v, 8);
	b[8] = tag;
	return hash(t, b, sizeof(b));
}

static size_t addr_len(const struct ike_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

static uint64_t hash_addr(const struct satab *t, const struct ike_addr *a, uint64_t spi)
{
	uint8_t b[8 + 1 + 16];
	size_t n = addr_len(a);

	memcpy(b, &spi, 8);
	b[8] = a->family;
	memcpy(b + 9, a->addr, n);
	return hash(t, b, 9 + n);
}

static uint64_t hash_ident(const struct satab *t, const struct ike_identity *id)
{
	uint8_t b[2 + IKE_ID_MAX];

	b[0] = 'I';
	b[1] = id->type;
	memcpy(b + 2, id->data, id->len);
	return hash(t, b, 2 + (size_t)id->len);
}

static bool addr_same(const struct ike_addr *a, const struct ike_addr *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, addr_len(a)) == 0;
}

void satab_init(struct satab *t, const uint8_t key[16])
{
	memset(t, 0, sizeof(*t));
	memcpy(t->key, key, sizeof(t->key));
}

void satab_free(struct satab *t)
{
	struct htab *owned[] = {&t->by_src, &t->by_esp};

	/* Source counters and ESP entries are ours; SAs are the engine's. */
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		for (size_t j = 0; j < owned[i]->cap; j++) {
			struct hlink *l = owned[i]->b[j], *next;

			for (; l; l = next) {
				next = l->next;
				free(l); /* hlink is the first member of both */
			}
		}
	}
	htab_free(&t->by_spi);
	htab_free(&t->by_id);
	htab_free(&t->by_ho);
	htab_free(&t->by_ident);
	htab_free(&t->by_src);
	htab_free(&t->by_esp);
	free(t->heap);
	sodium_memzero(t, sizeof(*t));
}

/* ---- every SA ------------------------------------------------------------- */

int satab_insert(struct satab *t, struct ike_sa *sa)
{
	/* Room in the heap first: satab_sched() cannot fail afterwards. */
	if (t->heap_cap <= t->n_sa) {
		size_t cap = t->heap_cap ? 2 * t->heap_cap : 16;
		struct ike_sa **h = realloc(t->heap, cap * sizeof(*h));

		if (!h)
			return -1;
		t->heap = h;
		t->heap_cap = cap;
	}
	if (htab_add(&t->by_spi, &sa->l_spi, hash_u64(t, sa->key_spi, 'S')) < 0)
		return -1;
	if (htab_add(&t->by_id, &sa->l_id, hash_u64(t, sa->id, 'D')) < 0) {
		htab_del(&t->by_spi, &sa->l_spi);
		return -1;
	}
	sa->in_tab = true;
	sa->heap_i = SIZE_MAX;
	sa->all_prev = NULL;
	sa->all_next = t->all;
	if (t->all)
		t->all->all_prev = sa;
	t->all = sa;
	t->n_sa++;
	satab_sched(t, sa);
	return 0;
}

static void heap_del(struct satab *t, struct ike_sa *sa);

void satab_remove(struct satab *t, struct ike_sa *sa)
{
	if (!sa->in_tab)
		return;
	satab_ho_del(t, sa);
	satab_half_open_end(t, sa);
	satab_ident_del(t, sa);
	heap_del(t, sa);
	htab_del(&t->by_spi, &sa->l_spi);
	htab_del(&t->by_id, &sa->l_id);
	if (sa->all_prev)
		sa->all_prev->all_next = sa->all_next;
	else
		t->all = sa->all_next;
	if (sa->all_next)
		sa->all_next->all_prev = sa->all_prev;
	sa->all_prev = sa->all_next = NULL;
	sa->in_tab = false;
	t->n_sa--;
}

struct ike_sa *satab_by_spi(const struct satab *t, uint64_t our_spi)
{
	uint64_t h = hash_u64(t, our_spi, 'S');

	for (struct hlink *l = htab_first(&t->by_spi, h); l; l = htab_next(l, h)) {
		struct ike_sa *sa = container_of(l, struct ike_sa, l_spi);

		if (sa->key_spi == our_spi)
			return sa;
	}
	return NULL;
}

struct ike_sa *satab_by_id(const struct satab *t, uint32_t id)
{
	uint64_t h = hash_u64(t, id, 'D');

	for (struct hlink *l = htab_first(&t->by_id, h); l; l = htab_next(l, h)) {
		struct ike_sa *sa = container_of(l, struct ike_sa, l_id);

		if (sa->id == id)
			return sa;
	}
	return NULL;
}

/* ---- half-open ------------------------------------------------------------ */

static struct satab_src *src_find(const struct satab *t, const struct ike_addr *a, uint64_t h)
{
	for (struct hlink *l = htab_first(&t->by_src, h); l; l = htab_next(l, h)) {
		struct satab_src *s = container_of(l, struct satab_src, l);

		if (s->family == a->family && memcmp(s->addr, a->addr, addr_len(a)) == 0)
			return s;
	}
	return NULL;
}

int satab_ho_add(struct satab *t, struct ike_sa *sa)
{
	if (sa->in_ho)
		return 0;
	if (htab_add(&t->by_ho, &sa->l_ho, hash_addr(t, &sa->path.remote, sa->spi_i)) < 0)
		return -1;
	sa->in_ho = true;
	return 0;
}

void satab_ho_del(struct satab *t, struct ike_sa *sa)
{
	if (!sa->in_ho)
		return;
	htab_del(&t->by_ho, &sa->l_ho);
	sa->in_ho = false;
}

int satab_half_open_begin(struct satab *t, struct ike_sa *sa)
{
	const struct ike_addr *a = &sa->path.remote;
	uint64_t hs = hash_addr(t, a, 0);
	struct satab_src *s = src_find(t, a, hs);

	if (sa->half_open)
		return 0;
	if (!s) {
		if (!(s = calloc(1, sizeof(*s))))
			return -1;
		s->family = a->family;
		memcpy(s->addr, a->addr, addr_len(a));
		if (htab_add(&t->by_src, &s->l, hs) < 0) {
			free(s);
			return -1;
		}
	}
	s->n++;
	sa->half_open = s;
	t->n_half_open++;
	return 0;
}

void satab_half_open_end(struct satab *t, struct ike_sa *sa)
{
	struct satab_src *s = sa->half_open;

	if (!s)
		return;
	if (--s->n == 0) {
		htab_del(&t->by_src, &s->l);
		free(s);
	}
	sa->half_open = NULL;
	t->n_half_open--;
}

struct ike_sa *satab_ho_find(const struct satab *t, uint64_t spi_i, const struct ike_addr *remote)
{
	uint64_t h = hash_addr(t, remote, spi_i);

	for (struct hlink *l = htab_first(&t->by_ho, h); l; l = htab_next(l, h)) {
		struct ike_sa *sa = container_of(l, struct ike_sa, l_ho);

		if (sa->spi_i == spi_i && addr_same(&sa->path.remote, remote))
			return sa;
	}
	return NULL;
}

unsigned satab_ho_from(const struct satab *t, const struct ike_addr *remote)
{
	struct satab_src *s = src_find(t, remote, hash_addr(t, remote, 0));

	return s ? s->n : 0;
}

/* ---- identities ------------------------------------------------------------ */

int satab_ident_add(struct satab *t, struct ike_sa *sa)
{
	if (sa->in_ident)
		return 0;
	if (htab_add(&t->by_ident, &sa->l_ident, hash_ident(t, &sa->peer_id)) < 0)
		return -1;
	sa->in_ident = true;
	return 0;
}

void satab_ident_del(struct satab *t, struct ike_sa *sa)
{
	if (!sa->in_ident)
		return;
	htab_del(&t->by_ident, &sa->l_ident);
	sa->in_ident = false;
}

struct ike_sa *satab_ident_first(const struct satab *t, const struct ike_identity *id)
{
	struct hlink *l = htab_first(&t->by_ident, hash_ident(t, id));

	return l ? container_of(l, struct ike_sa, l_ident) : NULL;
}

struct ike_sa *satab_ident_next(const struct satab *t, const struct ike_sa *sa)
{
	struct hlink *l = htab_next(&sa->l_ident, sa->l_ident.h);

	return l ? container_of(l, struct ike_sa, l_ident) : NULL;
}

/* ---- ESP SPIs -------------------------------------------------------------- */

static struct satab_esp *esp_find(const struct satab *t, uint32_t spi)
{
	uint64_t h = hash_u64(t, spi, 'E');

	for (struct hlink *l = htab_first(&t->by_esp, h); l; l = htab_next(l, h)) {
		struct satab_esp *x = container_of(l, struct satab_esp, l);

		if (x->spi == spi)
			return x;
	}
	return NULL;
}

int satab_esp_put(struct satab *t, uint32_t spi, uint32_t sa_id)
{
	struct satab_esp *x = esp_find(t, spi);

	if (x) {
		x->sa_id = sa_id;
		return 0;
	}
	if (!(x = calloc(1, sizeof(*x))))
		return -1;
	x->spi = spi;
	x->sa_id = sa_id;
	if (htab_add(&t->by_esp, &x->l, hash_u64(t, spi, 'E')) < 0) {
		free(x);
		return -1;
	}
	return 0;
}

uint32_t satab_esp_get(const struct satab *t, uint32_t spi)
{
	struct satab_esp *x = esp_find(t, spi);

	return x ? x->sa_id : 0;
}

void satab_esp_del(struct satab *t, uint32_t spi)
{
	struct satab_esp *x = esp_find(t, spi);

	if (x) {
		htab_del(&t->by_esp, &x->l);
		free(x);
	}
}

void satab_esp_maybe_sweep(struct satab *t, satab_esp_still_fn still, void *ctx)
{
	if (t->by_esp.n < 2 * t->esp_live_mark + 64)
		return;
	for (size_t i = 0; i < t->by_esp.cap; i++) {
		struct hlink **pp = &t->by_esp.b[i];

		while (*pp) {
			struct satab_esp *x = container_of(*pp, struct satab_esp, l);

			if (still(ctx, x->spi, x->sa_id)) {
				pp = &(*pp)->next;
				continue;
			}
			*pp = x->l.next;
			t->by_esp.n--;
			free(x);
		}
	}
	t->esp_live_mark = t->by_esp.n;
}

/* ---- the deadline heap --------------------------------------------------------- */

static void heap_set(struct satab *t, size_t i, struct ike_sa *sa)
{
	t->heap[i] = sa;
	sa->heap_i = i;
}

static void heap_up(struct satab *t, size_t i)
{
	struct ike_sa *sa = t->heap[i];

	while (i > 0 && t->heap[(i - 1) / 2]->due > sa->due) {
		heap_set(t, i, t->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(t, i, sa);
}

static void heap_down(struct satab *t, size_t i)
{
	struct ike_sa *sa = t->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= t->heap_n)
			break;
		if (c + 1 < t->heap_n && t->heap[c + 1]->due < t->heap[c]->due)
			c++;
		if (t->heap[c]->due >= sa->due)
			break;
		heap_set(t, i, t->heap[c]);
		i = c;
	}
	heap_set(t, i, sa);
}

static void heap_del(struct satab *t, struct ike_sa *sa)
{
	size_t i = sa->heap_i;

	if (i == SIZE_MAX)
		return;
	sa->heap_i = SIZE_MAX;
	if (i == --t->heap_n)
		return;
	struct ike_sa *moved = t->heap[t->heap_n];

	heap_set(t, i, moved);
	heap_up(t, i);
	heap_down(t, moved->heap_i);
}

void satab_sched(struct satab *t, struct ike_sa *sa)
{
	if (!sa->in_tab)
		return;
	if (sa->due == IKE_TIME_NEVER) {
		heap_del(t, sa);
		return;
	}
	if (sa->heap_i == SIZE_MAX) {
		/* satab_insert() made room for every SA */
		heap_set(t, t->heap_n++, sa);
		heap_up(t, sa->heap_i);
		return;
	}
	heap_up(t, sa->heap_i);
	heap_down(t, sa->heap_i);
}

struct ike_sa *satab_top(const struct satab *t)
{
	return t->heap_n ? t->heap[0] : NULL;
}
