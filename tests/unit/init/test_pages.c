/* Which pages single-command mode drops before its wait loop: read-only segments only, never a
 * writable one nor the RELRO pages relocation wrote; and after the drop, code, constants and
 * data still read as before while the file pages have left the RSS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pages.h"

#define PAGE 4096

static ElfW(Phdr) seg(unsigned type, unsigned flags, uintptr_t vaddr, size_t filesz, size_t memsz)
{
	ElfW(Phdr) p;
	memset(&p, 0, sizeof(p));
	p.p_type = type;
	p.p_flags = flags;
	p.p_vaddr = vaddr;
	p.p_filesz = filesz;
	p.p_memsz = memsz;
	return p;
}

static void assert_range(struct page_range r, uintptr_t start, uintptr_t end)
{
	assert_int_equal(r.start, start);
	assert_int_equal(r.end, end);
}

/* The layout of a static x86-64 pidvisor: headers, text, rodata, then data with RELRO first. */
static void keeps_only_read_only_segments(void **state)
{
	(void)state;
	ElfW(Phdr) ph[] = {
	    seg(PT_LOAD, PF_R, 0x400000, 0x1000, 0x1000),
	    seg(PT_LOAD, PF_R | PF_X, 0x401000, 0x13f000, 0x13f000),
	    seg(PT_LOAD, PF_R, 0x541000, 0x59a00, 0x59a00),
	    seg(PT_LOAD, PF_R | PF_W, 0x59b7f0, 0xd000, 0x16000),
	    seg(PT_GNU_RELRO, PF_R, 0x59b7f0, 0xa810, 0xa810),
	    seg(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0),
	};
	struct page_range r[8];
	size_t n = pages_droppable(ph, 6, 0, PAGE, r, 8);
	assert_int_equal(n, 3);
	assert_range(r[0], 0x400000, 0x401000);
	assert_range(r[1], 0x401000, 0x540000);
	/* rodata ends in the middle of a page: the whole page is its mapping's */
	assert_range(r[2], 0x541000, 0x59b000);
	for (size_t i = 0; i < n; i++)
		assert_true(r[i].end <= 0x59b000); /* the data segment's first page */
}

/* A RELRO range inside a read-only segment (some linkers) cuts it in two, rounded outwards. */
static void cuts_relro_out(void **state)
{
	(void)state;
	ElfW(Phdr) ph[] = {
	    seg(PT_LOAD, PF_R, 0x10000, 0x8000, 0x8000),
	    seg(PT_GNU_RELRO, PF_R, 0x12100, 0x1000, 0x1000),
	};
	struct page_range r[8];
	size_t n = pages_droppable(ph, 2, 0x7f0000000000, PAGE, r, 8);
	assert_int_equal(n, 2);
	assert_range(r[0], 0x7f0000010000, 0x7f0000012000);
	assert_range(r[1], 0x7f0000014000, 0x7f0000018000);
}

/* Writable segments, a read-only one with a zero-filled tail (not the file's), and an empty
 * one are never dropped; max bounds what is stored, not what is counted. */
static void skips_what_is_not_the_files(void **state)
{
	(void)state;
	ElfW(Phdr) ph[] = {
	    seg(PT_LOAD, PF_R | PF_W, 0x1000, 0x1000, 0x1000),
	    seg(PT_LOAD, PF_R, 0x3000, 0x1000, 0x2000),
	    seg(PT_LOAD, PF_R, 0x6000, 0, 0),
	    seg(PT_LOAD, PF_R | PF_X, 0x8000, 0x1000, 0x1000),
	    seg(PT_LOAD, PF_R, 0xa000, 0x1000, 0x1000),
	};
	struct page_range r[1];
	size_t n = pages_droppable(ph, 5, 0, PAGE, r, 1);
	assert_int_equal(n, 2);
	assert_range(r[0], 0x8000, 0x9000);
}

static long rss_file_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	assert_non_null(f);
	char line[256];
	long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssFile: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static const char table[] = "a constant that lives in rodata";
static int counter = 41;

static void dropped_pages_come_back_intact(void **state)
{
	(void)state;
	counter++;
	long before = rss_file_kib();
	size_t bytes = pages_drop();
	long after = rss_file_kib();
	assert_true(bytes > 0);
	assert_true(after < before);
	/* code runs (this and cmocka's), constants and written data read as before */
	assert_string_equal(table, "a constant that lives in rodata");
	assert_int_equal(counter, 42);
	char buf[64];
	snprintf(buf, sizeof(buf), "%d %s", counter, table);
	assert_string_equal(buf, "42 a constant that lives in rodata");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keeps_only_read_only_segments),
	    cmocka_unit_test(cuts_relro_out),
	    cmocka_unit_test(skips_what_is_not_the_files),
	    cmocka_unit_test(dropped_pages_come_back_intact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
