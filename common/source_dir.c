/*
 * A source's directory; see source_dir.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "source_dir.h"
#include "source_mark.h"

/* A name of the source's, and not a hidden file (a checkpoint, say). */
static int
is_segment(const struct source *cfg, const char *name)
{
	return name[0] != '.' && fnmatch(cfg->pattern, name, 0) == 0;
}

int
source_dir_scan(const struct source *cfg, const char *after, int newest,
    char *next, size_t len, struct source_behind *b)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	int		 found = 0;

	b->segments = b->bytes = 0;
	if ((d = opendir(cfg->directory)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!is_segment(cfg, de->d_name) ||
		    strcmp(de->d_name, after) <= 0 ||
		    strlen(de->d_name) > SOURCE_SEGMENT_MAX)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		b->segments++;
		b->bytes += (uint64_t)st.st_size;
		if (next != NULL && (!found || (newest ?
		    strcmp(de->d_name, next) > 0 : strcmp(de->d_name,
		    next) < 0)))
			snprintf(next, len, "%s", de->d_name);
		found = 1;
	}
	closedir(d);
	return found;
}
