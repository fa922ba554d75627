/*
 * A TOML 1.0 parser producing an immutable value tree.
 *
 * Every value and every key carries the position it was read at, so
 * that the configuration layer can report FILE:LINE:COL for a bad value
 * or an unknown key long after parsing.
 */
#ifndef SPOOLD_TOML_H
#define SPOOLD_TOML_H

#include <stddef.h>
#include <stdint.h>

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOLEAN,
	TOML_DATETIME,		/* text kept as written, in u.str */
	TOML_ARRAY,
	TOML_TABLE
};

struct toml_pos {
	const char	*file;	/* as given to the parser; not owned */
	int		 line;	/* 1-based */
	int		 col;	/* 1-based, in bytes */
};

struct toml_value;

struct toml_kv {
	char			*key;	/* NUL-terminated; keylen for embedded NUL */
	size_t			 keylen;
	struct toml_pos		 pos;	/* where the key was written */
	struct toml_value	*val;
};

struct toml_value {
	enum toml_type		 type;
	struct toml_pos		 pos;	/* where the value (or header) starts */
	union {
		struct {
			char	*s;	/* NUL-terminated */
			size_t	 len;	/* may hold embedded NULs */
		}		 str;
		int64_t		 i;
		double		 f;
		int		 b;
		struct {
			struct toml_value **v;
			size_t		 n;
		}		 arr;
		struct {
			struct toml_kv	*kv;	/* in the order first defined */
			size_t		 n;
		}		 tab;
	}			 u;
	unsigned int		 flags;	/* parser bookkeeping */
};

/*
 * Parse len bytes of buf. The result is a TOML_TABLE; NULL on error with
 * "FILE:LINE:COL: message" in err.
 */
struct toml_value	*toml_parse(const char *buf, size_t len,
			    const char *file, char *err, size_t errlen);
/* Read and parse a file; errors as toml_parse, or "FILE: strerror". */
struct toml_value	*toml_parse_file(const char *path, char *err,
			    size_t errlen);
void			 toml_free(struct toml_value *);

/* The value of key in a table, or NULL. */
const struct toml_value	*toml_get(const struct toml_value *, const char *);
const char		*toml_typename(enum toml_type);

#endif
