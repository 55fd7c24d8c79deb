/*
 * mm.c - physical pages, page tables, the vmalloc area, address spaces.
 *
 * As in Linux 4.9 x86-64, the vmalloc area's top-level (PML4) entries are
 * populated lazily in init_mm only: an mm created earlier lacks an entry
 * populated later, and vmalloc_fault() copies it on the first #PF. That is
 * why switching onto a vmapped stack needs the two fixes of the vmapped
 * stack commit (switch_mm() syncing the current stack's entry,
 * prepare_switch_to() probing the next stack).
 */
#include "kernel.h"

struct mem_region ram_regions[MAX_REGIONS]; /* filled by start_kernel */
int nr_ram_regions;
unsigned long ram_end;

static int cur_region;
static unsigned long next_free; /* bump allocator over ram_regions */
unsigned long nr_pages_allocated;

struct mm_struct init_mm = { .name = "init_mm" };

void mem_init(void)
{
	unsigned long kernel_end = ALIGN_UP(__pa_symbol(_end), PAGE_SIZE);

	/* Pages come from RAM above the kernel image (and above 1 MiB). */
	next_free = kernel_end;
	cur_region = 0;
	for (int i = 0; i < nr_ram_regions; i++)
		if (ram_regions[i].end > ram_end)
			ram_end = ram_regions[i].end;
}

/* alloc_page returns a zeroed page by its direct-map address. */
void *alloc_page(void)
{
	for (; cur_region < nr_ram_regions; cur_region++) {
		struct mem_region *r = &ram_regions[cur_region];
		unsigned long pa = ALIGN_UP(next_free > r->start ? next_free : r->start, PAGE_SIZE);
		if (pa + PAGE_SIZE <= r->end) {
			next_free = pa + PAGE_SIZE;
			nr_pages_allocated++;
			void *va = __va(pa);
			memset(va, 0, PAGE_SIZE);
			return va;
		}
	}
	panic("out of memory");
}

/* Next-level table of entry idx, allocated if absent and alloc is set. */
static u64 *table_next(u64 *table, unsigned idx, int alloc)
{
	if (!(table[idx] & _PAGE_PRESENT)) {
		if (!alloc)
			return NULL;
		table[idx] = __pa(alloc_page()) | _PAGE_PRESENT | _PAGE_RW;
	}
	return __va(table[idx] & PTE_PFN_MASK);
}

static void map_page(u64 *pgd, unsigned long va, unsigned long pa, u64 flags)
{
	u64 *pud = table_next(pgd, pgd_index(va), 1);
	u64 *pmd = table_next(pud, pud_index(va), 1);
	u64 *pte = table_next(pmd, pmd_index(va), 1);
	pte[pte_index(va)] = pa | flags;
}

static void map_2m(u64 *pgd, unsigned long va, unsigned long pa, u64 flags)
{
	u64 *pud = table_next(pgd, pgd_index(va), 1);
	u64 *pmd = table_next(pud, pud_index(va), 1);
	pmd[pmd_index(va)] = pa | flags | _PAGE_PSE;
}

/*
 * Build init_mm: the direct map of all RAM with 2 MiB pages, the kernel
 * image with 4 KiB pages (text read-only executable, rodata read-only,
 * data and bss writable, both no-execute), and no identity map: once CR3
 * points here the early tables of head.S are gone.
 */
void paging_init(void)
{
	init_mm.pgd = alloc_page();
	for (unsigned long pa = 0; pa < ram_end; pa += PMD_SIZE)
		map_2m(init_mm.pgd, PAGE_OFFSET + pa, pa, _PAGE_PRESENT | _PAGE_RW | _PAGE_NX);
	for (unsigned long va = (unsigned long)_text; va < (unsigned long)_end; va += PAGE_SIZE) {
		u64 flags = _PAGE_PRESENT;
		if (va >= (unsigned long)_etext)
			flags |= _PAGE_NX;
		if (va >= (unsigned long)__end_rodata)
			flags |= _PAGE_RW;
		map_page(init_mm.pgd, va, __pa_symbol(va), flags);
	}
	write_cr3(__pa(init_mm.pgd));
}

/*
 * A new address space: the kernel half (PML4 entries 256-511) copied from
 * init_mm as it is now (Linux's pgd_ctor), so vmalloc entries populated
 * later are missing; one private page at USER_DATA_VA holding data.
 */
struct mm_struct *mm_alloc(const char *name, const char *text)
{
	struct mm_struct *mm = alloc_page(); /* a page is plenty */
	mm->pgd = alloc_page();
	mm->name = name;
	for (int i = 256; i < PTRS_PER_TABLE; i++)
		mm->pgd[i] = init_mm.pgd[i];
	char *data = alloc_page();
	strlcpy(data, text, PAGE_SIZE);
	map_page(mm->pgd, USER_DATA_VA, __pa(data), _PAGE_PRESENT | _PAGE_RW | _PAGE_NX);
	return mm;
}

int pgd_present(struct mm_struct *mm, unsigned long address)
{
	return (mm->pgd[pgd_index(address)] & _PAGE_PRESENT) != 0;
}

/* ---- vmalloc ---- */

struct vm_area {
	unsigned long addr, size; /* mapped range; the page below addr is the guard */
};
#define MAX_VM_AREAS 64
static struct vm_area vm_areas[MAX_VM_AREAS];
static int nr_vm_areas;

/*
 * Map size bytes of fresh pages in [start, end) at an address aligned to
 * align, leaving the page below unmapped (the guard page) and never
 * overlapping another area or its guard. Mappings go into init_mm only.
 */
void *__vmalloc_range(unsigned long size, unsigned long align, unsigned long start, unsigned long end)
{
	size = ALIGN_UP(size, PAGE_SIZE);
	if (align < PAGE_SIZE)
		align = PAGE_SIZE;
	if (nr_vm_areas == MAX_VM_AREAS)
		return NULL;
	unsigned long addr = ALIGN_UP(start + PAGE_SIZE, align);
again:
	for (int i = 0; i < nr_vm_areas; i++) {
		struct vm_area *a = &vm_areas[i];
		if (addr - PAGE_SIZE < a->addr + a->size && a->addr - PAGE_SIZE < addr + size) {
			addr = ALIGN_UP(a->addr + a->size + PAGE_SIZE, align);
			goto again;
		}
	}
	if (addr + size > end || addr + size < addr)
		return NULL;
	for (unsigned long off = 0; off < size; off += PAGE_SIZE)
		map_page(init_mm.pgd, addr + off, __pa(alloc_page()), _PAGE_PRESENT | _PAGE_RW | _PAGE_NX);
	vm_areas[nr_vm_areas].addr = addr;
	vm_areas[nr_vm_areas].size = size;
	nr_vm_areas++;
	return (void *)addr;
}

void *vmalloc(unsigned long size)
{
	return __vmalloc_range(size, PAGE_SIZE, VMALLOC_START, VMALLOC_END);
}

/*
 * The #PF fixup for the vmalloc area (Linux 4.9 arch/x86/mm/fault.c): if
 * init_mm has the top-level entry and the current page tables do not, copy
 * it. Lower levels are shared, so one entry is all that can be missing.
 * Returns 0 if the address is now mapped, -1 if this was no vmalloc fault
 * (outside the area, or not mapped in init_mm either: a guard page).
 */
noinline int vmalloc_fault(unsigned long address)
{
	if (address < VMALLOC_START || address >= VMALLOC_END)
		return -1;
	u64 *pgd = (u64 *)__va(read_cr3() & PTE_PFN_MASK) + pgd_index(address);
	u64 *pgd_ref = init_mm.pgd + pgd_index(address);
	if (!(*pgd_ref & _PAGE_PRESENT))
		return -1;
	if (!(*pgd & _PAGE_PRESENT))
		*pgd = *pgd_ref; /* a not-present entry is never cached: no flush (SDM 4.10.2.3) */
	else if ((*pgd & PTE_PFN_MASK) != (*pgd_ref & PTE_PFN_MASK))
		panic("vmalloc_fault: top-level entry for 0x%016lx differs from init_mm", address);
	u64 *pud = table_next(init_mm.pgd, pgd_index(address), 0);
	u64 *pmd = pud ? table_next(pud, pud_index(address), 0) : NULL;
	u64 *pte = pmd ? table_next(pmd, pmd_index(address), 0) : NULL;
	if (!pte || !(pte[pte_index(address)] & _PAGE_PRESENT))
		return -1;
	return 0;
}

/*
 * Load next's page tables. The vmapped-stack fix: if the PML4 entry that
 * maps the stack we are running on is missing in next, copy it from
 * init_mm first, or the next push or return after the CR3 write faults and
 * the #PF cannot be delivered on this stack (#DF). "nosync" skips it.
 */
noinline void switch_mm(struct mm_struct *prev, struct mm_struct *next)
{
	if (prev == next)
		return;
	if (!opt_nosync) {
		unsigned long idx = pgd_index(current_stack_pointer());
		if (!(next->pgd[idx] & _PAGE_PRESENT))
			next->pgd[idx] = init_mm.pgd[idx];
	}
	write_cr3(__pa(next->pgd));
}
