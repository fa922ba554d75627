/*
 * Typed values in spoold.conf and the shaping files: the setters that
 * the key tables share, and the errors that name the key and where it
 * was written, "FILE:LINE:COL: message".
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "toml.h"
#include "units.h"

int
errat(struct load *ld, const struct toml_pos *pos, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (ld->errlen == 0)
		return -1;
	n = snprintf(ld->err, ld->errlen, "%s:%d:%d: ", pos->file,
	    pos->line, pos->col);
	if (n < 0 || (size_t)n >= ld->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

int
warnat(struct load *ld, const struct toml_pos *pos, const char *fmt, ...)
{
	struct config	*cfg = ld->cfg;
	va_list		 ap;
	char		*msg, **w;
	int		 n;

	/* Not cut: a warning may name many keys and their places. */
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n == -1)
		return nomem(ld);
	w = reallocarray(cfg->warnings, cfg->nwarnings + 1, sizeof(*w));
	if (w == NULL)
		goto nomem;
	cfg->warnings = w;
	if (asprintf(&w[cfg->nwarnings], "%s:%d:%d: %s", pos->file,
	    pos->line, pos->col, msg) == -1)
		goto nomem;
	cfg->nwarnings++;
	free(msg);
	return 0;
nomem:
	free(msg);
	return nomem(ld);
}

int
errfile(struct load *ld, const char *file, const char *msg)
{
	if (ld->errlen > 0)
		snprintf(ld->err, ld->errlen, "%s: %s", file, msg);
	return -1;
}

int
nomem(struct load *ld)
{
	return errfile(ld, ld->cfg->path, strerror(ENOMEM));
}

/*
 * A string made safe to show inside double quotes: control bytes,
 * quotes and backslashes escaped, long text cut.
 */
const char *
shown(const char *s, char *buf, size_t len)
{
	size_t		 o = 0;
	unsigned char	 c;

	for (; (c = (unsigned char)*s) != '\0' && o + 8 < len; s++) {
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f)
			o += snprintf(buf + o, len - o, "\\u%04x", c);
		else
			buf[o++] = (char)c;
	}
	if (*s != '\0' && o + 4 <= len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

int
errtype(struct load *ld, const char *name, const struct toml_value *v,
    const char *want)
{
	return errat(ld, &v->pos, "%s: expected %s, got %s", name, want,
	    toml_typename(v->type));
}

int
errkey(struct load *ld, const struct toml_kv *kv)
{
	char	 b[128];

	return errat(ld, &kv->pos, "unknown key \"%s\"",
	    shown(kv->key, b, sizeof(b)));
}

const struct keydef *
keyfind(const struct keydef *defs, size_t n, const struct toml_kv *kv)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (keyis(kv, defs[i].name))
			return &defs[i];
	return NULL;
}

const struct keydef *
keynamed(const struct keydef *defs, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(defs[i].name, name) == 0)
			return &defs[i];
	return NULL;
}

/* A string value without embedded NUL bytes. */
int
want_str(struct load *ld, const char *name, const struct toml_value *v)
{
	if (v->type != TOML_STRING)
		return errtype(ld, name, v, "a string");
	if (strlen(v->u.str.s) != v->u.str.len)
		return errat(ld, &v->pos, "%s: contains a NUL byte", name);
	return 0;
}

int
set_str(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	char	**p = field(obj, d), *s;

	if (want_str(ld, d->name, v) == -1)
		return -1;
	if (d->min > 0 && v->u.str.len == 0)
		return errat(ld, &v->pos, "%s: must not be empty", d->name);
	if ((s = strdup(v->u.str.s)) == NULL)
		return nomem(ld);
	free(*p);
	*p = s;
	return 0;
}

int
set_size(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	uint64_t	*p = field(obj, d), n;
	const char	*why;
	char		 b[128];

	if (want_str(ld, d->name, v) == -1)
		return -1;
	if (parse_size(v->u.str.s, &n, &why) == -1)
		return errat(ld, &v->pos, "%s: bad size \"%s\": %s", d->name,
		    shown(v->u.str.s, b, sizeof(b)), why);
	if (n < d->min)
		return errat(ld, &v->pos, "%s: must be at least 1B", d->name);
	*p = n;
	return 0;
}

/* Durations are strings; numbers are seconds, as KumoMTA reads them. */
int
set_dur(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	uint64_t	*p = field(obj, d), ms;
	const char	*why;
	char		 b[128];

	switch (v->type) {
	case TOML_STRING:
		if (want_str(ld, d->name, v) == -1)
			return -1;
		if (parse_duration(v->u.str.s, &ms, &why) == -1)
			return errat(ld, &v->pos, "%s: bad duration \"%s\": %s",
			    d->name, shown(v->u.str.s, b, sizeof(b)), why);
		break;
	case TOML_INTEGER:
		if (v->u.i < 0)
			return errat(ld, &v->pos, "%s: negative duration",
			    d->name);
		if ((uint64_t)v->u.i > UINT64_MAX / 1000)
			return errat(ld, &v->pos, "%s: too large", d->name);
		ms = (uint64_t)v->u.i * 1000;
		break;
	case TOML_FLOAT:
		if (v->u.f != v->u.f)
			return errat(ld, &v->pos, "%s: not a number", d->name);
		if (v->u.f < 0)
			return errat(ld, &v->pos, "%s: negative duration",
			    d->name);
		if (v->u.f > 1e16)
			return errat(ld, &v->pos, "%s: too large", d->name);
		ms = (uint64_t)(v->u.f * 1000 + 0.5);
		break;
	default:
		return errtype(ld, d->name, v,
		    "a string like \"90s\" or a number of seconds");
	}
	if (ms < d->min)
		return errat(ld, &v->pos, "%s: must be longer than 0s",
		    d->name);
	*p = ms;
	return 0;
}

int
set_uint(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	uint64_t	*p = field(obj, d);

	if (v->type != TOML_INTEGER)
		return errtype(ld, d->name, v, "an integer");
	if (v->u.i < 0 || (uint64_t)v->u.i < d->min)
		return errat(ld, &v->pos, "%s: must be at least %llu",
		    d->name, (unsigned long long)d->min);
	*p = (uint64_t)v->u.i;
	return 0;
}

int
set_bool(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	int	*p = field(obj, d);

	if (v->type != TOML_BOOLEAN)
		return errtype(ld, d->name, v, "a boolean");
	*p = v->u.b != 0;
	return 0;
}


int
strlist(struct load *ld, const char *name, const struct toml_value *v,
    size_t *n)
{
	size_t	 i;

	if (v->type == TOML_STRING) {
		*n = 1;
		return want_str(ld, name, v);
	}
	if (v->type != TOML_ARRAY)
		return errtype(ld, name, v, "an array of strings");
	*n = v->u.arr.n;
	for (i = 0; i < *n; i++)
		if (want_str(ld, name, item(v, i)) == -1)
			return -1;
	return 0;
}
