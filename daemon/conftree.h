/*
 * A generic reader of strongSwan's settings syntax (strongswan.conf(5),
 * swanctl.conf(5)) into a tree of sections and key/value pairs, each
 * remembering the file and line it came from. It knows no key names: the
 * meaning of the tree is daemon/config.c's business.
 *
 *	# comment, to the end of the line (outside quotes)
 *	key = value to the end of the line, trimmed
 *	name {                       # a section; may nest, may be reopened
 *		key = "quoted: # { } and \"escapes\" \n \t \\, may span lines"
 *		sub { a = 1 }
 *	}
 *	include tunnels/site-*.conf  # glob, relative to this file's directory
 *
 * Sections and keys may be given again, in the same file or another: a
 * reopened section merges with the first one (which keeps its position), and
 * a key given again replaces the value (the later one wins), as in strongSwan.
 * An include inside a section puts the included statements into that section.
 * A glob that matches nothing is not an error; a plain file name that does
 * not exist is. Includes nest at most CONFTREE_MAX_DEPTH deep, and a file
 * that includes itself, directly or not, is an error.
 *
 * Names of sections and keys are [A-Za-z0-9_-]+ (at most CONFTREE_NAME_MAX
 * bytes): strongSwan uses '.' to separate the parts of a setting's path, and
 * ':' for section templates, which this reader does not support.
 *
 * Errors are one line "FILE:LINE: message" in the caller's buffer. They never
 * quote a value: values may be keys.
 */
#ifndef TUNSEC_DAEMON_CONFTREE_H
#define TUNSEC_DAEMON_CONFTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFTREE_MAX_DEPTH   10 /* include nesting, as in strongSwan */
#define CONFTREE_MAX_NESTING 32 /* section nesting */
#define CONFTREE_NAME_MAX    255
#define CONFTREE_MAX_FILE    (1u << 20) /* bytes per file */

struct conftree_kv {
	char *key;
	char *value;      /* unquoted, unescaped; NUL-terminated; wiped on free */
	const char *file; /* of the (last) assignment; owned by the tree */
	unsigned line;
	struct conftree_kv *next;
};

struct conftree_section {
	char *name;       /* "" for the root */
	const char *file; /* where it was first opened */
	unsigned line;
	struct conftree_section *parent;
	struct conftree_section *children, *last_child; /* in order of first appearance */
	struct conftree_kv *kvs, *last_kv;              /* in order of first appearance */
	struct conftree_section *next;
};

struct conftree_file;

struct conftree {
	struct conftree_section root;
	struct conftree_file *files; /* every file read, for the names kept above */
};

/*
 * Read path (and whatever it includes) into t. 0, or -1 with the message in
 * err: syntax errors, unterminated sections or quotes, unreadable files,
 * missing include files, include cycles, nesting too deep, files larger than
 * CONFTREE_MAX_FILE, NUL bytes, out of memory. On error t is left empty (no
 * conftree_free() needed, though it is harmless).
 */
int conftree_load(struct conftree *t, const char *path, char *err, size_t errlen);

/*
 * The same from a buffer (len bytes, need not be NUL-terminated); name is
 * used in messages and relative includes resolve against its directory.
 * Meant for tests and fuzzers.
 */
int conftree_load_buf(struct conftree *t, const char *name, const char *buf, size_t len, char *err,
                      size_t errlen);

/*
 * How files are opened (read-only): NULL, the default, is open(2); tunsecd
 * sets it so that a reload after the privilege drop can still read a
 * root-only file (daemon/priv.h). Returns an fd, or -1 with errno set.
 */
extern int (*conftree_open)(const char *path);

/* Wipe every value and free the tree. A zeroed tree is fine. */
void conftree_free(struct conftree *t);

/* Direct child section / key of s by name, or NULL. */
const struct conftree_section *conftree_section(const struct conftree_section *s, const char *name);
const struct conftree_kv *conftree_kv(const struct conftree_section *s, const char *key);

/*
 * Value parsers shared by every loader. Each returns 0, or -1 when s is not
 * of the form (the caller words the message, since it knows the key).
 */

/* yes/no, true/false, on/off, 1/0 (any case), as strongSwan reads them. */
int conftree_parse_bool(const char *s, bool *out);

/* Decimal or 0x-prefixed hex, no sign, in [min, max]. */
int conftree_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A duration: a number with an optional unit s, m, h or d (plain: seconds),
 * in whole seconds, at most max. */
int conftree_parse_time(const char *s, uint64_t max, uint64_t *secs);

/*
 * Hex bytes, with or without a 0x prefix, into out (cap bytes). On success
 * *len is the byte count. -1 for odd digit counts or non-hex characters;
 * -2 if more than cap bytes (then *len is what it would have been).
 * out is written only on success.
 */
int conftree_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len);

/*
 * Comma-separated lists:
 *
 *	struct conftree_list l;
 *	conftree_list_init(&l, kv->value);
 *	while ((rc = conftree_list_next(&l, buf, sizeof(buf))) > 0)
 *		use(buf);
 *
 * next copies the next element, trimmed, into buf. Returns 1 for an
 * element, 0 at the end (an empty value is an empty list), -1 if an element
 * is empty (",a", "a,,b", "a,") or does not fit in cap bytes.
 */
struct conftree_list {
	const char *next;
	bool first, done;
};

void conftree_list_init(struct conftree_list *l, const char *value);
int conftree_list_next(struct conftree_list *l, char *buf, size_t cap);

#endif
