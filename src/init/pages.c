#include "pages.h"

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

/* Appends [start, end) unless empty; counts it either way. */
static size_t add(struct page_range *out, size_t n, size_t max, uintptr_t start, uintptr_t end)
{
	if (start >= end)
		return n;
	if (n < max) {
		out[n].start = start;
		out[n].end = end;
	}
	return n + 1;
}

size_t pages_droppable(const ElfW(Phdr) * ph, size_t phnum, uintptr_t bias, size_t page_size,
		       struct page_range *out, size_t max)
{
	uintptr_t mask = page_size - 1;
	uintptr_t relro_start = 0, relro_end = 0;
	for (size_t i = 0; i < phnum; i++) {
		if (ph[i].p_type != PT_GNU_RELRO)
			continue;
		/* rounded outwards: a page relocation wrote even one byte of is not the file's */
		relro_start = (bias + ph[i].p_vaddr) & ~mask;
		relro_end = (bias + ph[i].p_vaddr + ph[i].p_memsz + mask) & ~mask;
	}
	size_t n = 0;
	for (size_t i = 0; i < phnum; i++) {
		if (ph[i].p_type != PT_LOAD || (ph[i].p_flags & PF_W) || ph[i].p_memsz == 0)
			continue;
		/* a read-only segment's memsz is its filesz: no anonymous tail to lose */
		if (ph[i].p_memsz != ph[i].p_filesz)
			continue;
		uintptr_t start = (bias + ph[i].p_vaddr) & ~mask;
		uintptr_t end = (bias + ph[i].p_vaddr + ph[i].p_memsz + mask) & ~mask;
		if (relro_end <= start || relro_start >= end) {
			n = add(out, n, max, start, end);
			continue;
		}
		n = add(out, n, max, start, relro_start);
		n = add(out, n, max, relro_end, end);
	}
	return n;
}

struct drop_state {
	uintptr_t vdso;
	size_t page_size;
	size_t bytes;
};

/* Whether addr lies in one of the object's loaded segments. */
static int holds(const struct dl_phdr_info *info, uintptr_t addr)
{
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && addr >= start && addr < start + ph->p_memsz)
			return 1;
	}
	return 0;
}

static int drop_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct drop_state *st = data;
	(void)size;
	/* the vDSO's pages are the kernel's, not a file's */
	if (st->vdso && holds(info, st->vdso))
		return 0;
	struct page_range r[8];
	size_t n = pages_droppable(info->dlpi_phdr, info->dlpi_phnum, info->dlpi_addr,
				   st->page_size, r, sizeof(r) / sizeof(r[0]));
	if (n > sizeof(r) / sizeof(r[0]))
		n = sizeof(r) / sizeof(r[0]);
	/* MADV_DONTNEED on a private file mapping: pages never written are the page cache's, and
	 * are mapped again from it on the next touch; nothing is lost */
	for (size_t i = 0; i < n; i++)
		if (madvise((void *)r[i].start, r[i].end - r[i].start, MADV_DONTNEED) == 0)
			st->bytes += r[i].end - r[i].start;
	return 0;
}

/* A debugger's breakpoints are written into text pages, which then are no longer the file's:
 * dropping them would lose the breakpoints. */
static bool traced(void)
{
	char buf[2048];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true; /* cannot tell: keep everything */
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	const char *t = strstr(buf, "\nTracerPid:");
	return !t || strncmp(t + strlen("\nTracerPid:"), "\t0\n", 3) != 0;
}

size_t pages_drop(void)
{
	if (traced())
		return 0;
	struct drop_state st = {getauxval(AT_SYSINFO_EHDR), (size_t)sysconf(_SC_PAGESIZE), 0};
	dl_iterate_phdr(drop_object, &st);
	return st.bytes;
}
