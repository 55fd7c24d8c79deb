/*
 * main.c - start_kernel: the PVH start info, the command line, bring-up.
 */
#include "kernel.h"

/* PVH boot ABI, xen/include/public/arch-x86/hvm/start_info.h */
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578
#define XEN_HVM_MEMMAP_TYPE_RAM 1

struct hvm_start_info {
	u32 magic;
	u32 version;
	u32 flags;
	u32 nr_modules;
	u64 modlist_paddr;
	u64 cmdline_paddr;
	u64 rsdp_paddr;
	/* version >= 1 */
	u64 memmap_paddr;
	u32 memmap_entries;
	u32 reserved;
};

struct hvm_memmap_table_entry {
	u64 addr;
	u64 size;
	u32 type;
	u32 reserved;
};

char boot_command_line[256];
int opt_nosync, opt_noprobe, opt_noist;
static char scenario[32];

/*
 * Copy what we need out of the start info while the early direct map
 * (first GiB) still covers it and before any page is allocated over it.
 */
static void parse_start_info(unsigned long pa)
{
	const struct hvm_start_info *si = pa && pa < (1UL << 30) ? __va(pa) : NULL;

	if (!si || si->magic != XEN_HVM_START_MAGIC_VALUE) {
		printk("PVH: no hvm_start_info (EBX=0x%lx)\n", pa);
		si = NULL;
	}
	if (si && si->cmdline_paddr && si->cmdline_paddr < (1UL << 30))
		strlcpy(boot_command_line, __va(si->cmdline_paddr), sizeof(boot_command_line));

	if (si && si->version >= 1 && si->memmap_paddr && si->memmap_paddr < (1UL << 30)) {
		const struct hvm_memmap_table_entry *e = __va(si->memmap_paddr);
		for (u32 i = 0; i < si->memmap_entries && nr_ram_regions < MAX_REGIONS; i++) {
			if (e[i].type != XEN_HVM_MEMMAP_TYPE_RAM)
				continue;
			unsigned long start = ALIGN_UP(e[i].addr, PAGE_SIZE);
			unsigned long end = (e[i].addr + e[i].size) & ~(PAGE_SIZE - 1);
			if (start < 0x100000)
				start = 0x100000; /* leave low memory (BIOS data, start info) alone */
			if (end > start) {
				ram_regions[nr_ram_regions].start = start;
				ram_regions[nr_ram_regions].end = end;
				nr_ram_regions++;
			}
		}
	}
	if (!nr_ram_regions) {
		/* No memory map: assume the 1 MiB - 64 MiB every PC with -m >= 64M has. */
		printk("PVH: no memory map, assuming RAM at 1 MiB..64 MiB\n");
		ram_regions[0].start = 0x100000;
		ram_regions[0].end = 64UL << 20;
		nr_ram_regions = 1;
	}
}

static void parse_cmdline(void)
{
	char *p = boot_command_line;

	while (*p) {
		while (*p == ' ')
			p++;
		char *w = p;
		while (*p && *p != ' ')
			p++;
		unsigned long n = (unsigned long)(p - w);
		if (n > 9 && !strncmp(w, "scenario=", 9)) {
			unsigned long m = n - 9 < sizeof(scenario) - 1 ? n - 9 : sizeof(scenario) - 1;
			memcpy(scenario, w + 9, m);
			scenario[m] = 0;
		} else if (n == 6 && !strncmp(w, "nosync", 6)) {
			opt_nosync = 1;
		} else if (n == 7 && !strncmp(w, "noprobe", 7)) {
			opt_noprobe = 1;
		} else if (n == 5 && !strncmp(w, "noist", 5)) {
			opt_noist = 1;
		}
	}
}

void start_kernel(unsigned long start_info_pa)
{
	console_init();
	parse_start_info(start_info_pa);
	printk("vmapstack mini kernel\n");
	printk("Command line: %s\n", boot_command_line);
	parse_cmdline();

	mem_init();
	paging_init();
	trap_init();
	sched_init();
	pic_init();
	pit_init();
	local_irq_enable();

	run_scenario(scenario);
	printk("reboot: Power down\n");
	debug_exit(0);
}
