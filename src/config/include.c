/* [include] files: globs relative to the main file's directory, each match read into the same
 * document. A literal path that is missing is an error, a glob with no match a note. */
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "loader.h"

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* The files the patterns name, in glob order. */
static int match_files(struct loader *L, const struct raw *where, char *patterns,
		       struct strvec *matches)
{
	int rc = 0;
	char *save = NULL;
	for (char *pat = strtok_r(patterns, " \t\n", &save); pat;
	     pat = strtok_r(NULL, " \t\n", &save)) {
		char *full = pat[0] == '/' ? xstrdup(pat) : xasprintf("%s/%s", L->c->here, pat);
		glob_t gl;
		int g = glob(full, 0, NULL, &gl);
		if (g == 0) {
			for (size_t i = 0; i < gl.gl_pathc; i++)
				sv_push(matches, xstrdup(gl.gl_pathv[i]));
		} else if (has_glob(pat)) {
			/* an empty drop-in directory is ordinary: not a warning */
			config_report(L, DIAG_NOTE, where, "include", "files",
				      "no file matches '%s'", full);
		} else if (L->strict) {
			config_report(L, DIAG_ERROR, where, "include", "files",
				      "included file '%s' does not exist", full);
			rc = -1;
		} else {
			/* supervisord starts without it: so must an image that ran under it */
			config_report(L, DIAG_WARNING, where, "include", "files",
				      "included file '%s' does not exist; starting without it, as "
				      "supervisord does (--check-config calls this an error)",
				      full);
		}
		globfree(&gl);
		free(full);
	}
	return rc;
}

int load_includes(struct loader *L)
{
	const struct section_def *def = section_by_kind(SEC_INCLUDE);
	const struct ini_section *inc = ini_find_section(&L->doc, "include");
	struct include_section is = {0};
	struct expand_ctx ex;
	struct raw where;

	if (!inc || !raw_get(L, inc, "files", NULL, &where))
		return 0;
	base_expansions(L, &ex);
	if (load_section(L, def, inc, "include", &ex, NULL, &is) < 0)
		return -1;
	struct strvec matches = {0};
	int rc = match_files(L, &where, is.files, &matches);
	free(is.files);
	for (size_t i = 0; i < matches.n; i++) {
		/* named here, at the [include] line; ini_load checks again on what it opens */
		struct stat st;
		const char *why = stat(matches.v[i], &st) == 0 ? ini_file_refusal(&st) : NULL;
		if (why) {
			config_report(L, DIAG_ERROR, &where, "include", "files", "'%s' is %s",
				      matches.v[i], why);
			rc = -1;
		} else if (ini_load(&L->doc, matches.v[i], L->d) < 0) {
			rc = -1;
		}
	}
	sv_free(&matches);
	/* supervisord reads [include] from the main file only. */
	const struct ini_entry *e =
	    ini_find(&L->doc, ini_find_section(&L->doc, "include"), "files");
	if (e && e->file != where.file && strcmp(e->file, where.file) != 0)
		diag_add(L->d, DIAG_WARNING, e->file, e->line, "include", "files",
			 "[include] in an included file is ignored, as supervisord does");
	return rc;
}
