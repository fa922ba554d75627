/*
 * The secrets in spoold.conf and who may read them: whether the file's
 * owner and mode show them to anyone but spoold, and whether spoold,
 * once it is its user, can still read the file to reload it.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"

/*
 * Header values that may carry credentials: secrets here, and not shown
 * by spoold -n.
 */
int
header_secret(const char *name)
{
	static const char *const words[] = {
		"auth", "token", "secret", "key", "pass", "cookie", "signature"
	};
	size_t	 i;

	for (i = 0; i < NELEM(words); i++)
		if (strcasestr(name, words[i]) != NULL)
			return 1;
	return 0;
}

int
url_password(const char *url, size_t *off, size_t *len)
{
	const char	*p, *end, *at, *colon;

	if ((p = strstr(url, "://")) == NULL)
		return 0;
	p += 3;
	end = p + strcspn(p, "/?#");
	if ((at = memrchr(p, '@', (size_t)(end - p))) == NULL ||
	    (colon = memchr(p, ':', (size_t)(at - p))) == NULL)
		return 0;
	*off = (size_t)(colon + 1 - url);
	*len = (size_t)(at - colon - 1);
	return 1;
}

char *
config_url_shown(const char *url)
{
	char	*u;
	size_t	 off, len;

	if (!url_password(url, &off, &len))
		return strdup(url);
	if (asprintf(&u, "%.*s(set)%s", (int)off, url, url + off + len) == -1)
		return NULL;
	return u;
}

/* How many secrets the file holds; the first is named in first. */
static size_t
secrets(const struct config *cfg, char *first, size_t len)
{
	const struct hook	*h;
	size_t			 i, j, n = 0;

	if (cfg->ingest_token != NULL && n++ == 0)
		snprintf(first, len, "ingest_token");
	for (i = 0; i < cfg->nhooks; i++) {
		h = &cfg->hooks[i];
		if (h->signing_secret != NULL && n++ == 0)
			snprintf(first, len, "the signing_secret of hook %s",
			    h->name);
		if (url_password(h->url, &j, &j) && n++ == 0)
			snprintf(first, len, "the password in the url of "
			    "hook %s", h->name);
		for (j = 0; j < h->nkafka; j++)
			if (header_secret(h->kafka[j].name) && n++ == 0)
				snprintf(first, len, "kafka property %s of "
				    "hook %s", h->kafka[j].name, h->name);
		for (j = 0; j < h->nheaders; j++)
			if (header_secret(h->headers[j].name) && n++ == 0)
				snprintf(first, len, "header %s of hook %s",
				    h->headers[j].name, h->name);
	}
	return n;
}

/* A user's name, or a group's, else its number. */
static const char *
id_name(int group, unsigned long id, char *buf, size_t len)
{
	struct passwd	*pw;
	struct group	*gr;
	const char	*name = NULL;

	if (group && (gr = getgrgid((gid_t)id)) != NULL)
		name = gr->gr_name;
	else if (!group && (pw = getpwuid((uid_t)id)) != NULL)
		name = pw->pw_name;
	if (name != NULL)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%lu", id);
	return buf;
}

#define user_name(uid, buf, len)	id_name(0, (uid), (buf), (len))
#define group_name(gid, buf, len)	id_name(1, (gid), (buf), (len))

/*
 * The rule is ssh's for a private key, widened by one group: besides the
 * owner, which must be root or spoold's user, only root's group and the
 * group of spoold's user may read the file. That group must read it when
 * spoold drops to its user, for a reload to read the file again.
 */
int
config_exposed(const struct config *cfg, uid_t uid, gid_t gid, char *msg,
    size_t len)
{
	char	 what[HOOK_NAME_MAX + 128], more[64], o[64], g[64];
	size_t	 n;
	int	 mode = (int)cfg->mode;

	if ((n = secrets(cfg, what, sizeof(what))) == 0)
		return 0;
	more[0] = '\0';
	if (n > 1)
		snprintf(more, sizeof(more), " and %zu other secret%s", n - 1,
		    n > 2 ? "s" : "");
	if (cfg->mode & S_IROTH && gid == 0)
		snprintf(msg, len, "%s: mode %04o lets other users read %s%s; "
		    "chmod 0600", cfg->path, mode, what, more);
	else if (cfg->mode & S_IROTH)
		snprintf(msg, len, "%s: mode %04o lets other users read %s%s; "
		    "chmod 0640 (%s:%s)", cfg->path, mode, what, more,
		    user_name(cfg->owner == uid ? uid : 0, o, sizeof(o)),
		    group_name(gid, g, sizeof(g)));
	else if (cfg->mode & S_IRGRP && cfg->group != 0 && cfg->group != gid)
		snprintf(msg, len, "%s: mode %04o lets group %s read %s%s; "
		    "chgrp %s or chmod 0600", cfg->path, mode,
		    group_name(cfg->group, g, sizeof(g)), what, more,
		    gid == 0 ? "root" : group_name(gid, o, sizeof(o)));
	else if (cfg->owner != 0 && cfg->owner != uid)
		snprintf(msg, len, "%s: its owner %s can read %s%s; chown root",
		    cfg->path, user_name(cfg->owner, o, sizeof(o)), what, more);
	else
		return 0;
	return 1;
}

/* By the mode bits alone: spoold's user has no other groups. */
int
config_unreadable(const struct config *cfg, uid_t uid, gid_t gid, char *msg,
    size_t len)
{
	char	 o[64], g[64];
	int	 can;

	if (uid == 0)
		return 0;
	if (cfg->owner == uid)
		can = cfg->mode & S_IRUSR;
	else if (cfg->group == gid)
		can = cfg->mode & S_IRGRP;
	else
		can = cfg->mode & S_IROTH;
	if (can)
		return 0;
	snprintf(msg, len, "%s: mode %04o: user %s cannot read it to reload "
	    "it; chown root:%s and chmod 0640", cfg->path, (int)cfg->mode,
	    user_name(uid, o, sizeof(o)), group_name(gid, g, sizeof(g)));
	return 1;
}
