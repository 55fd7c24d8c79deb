/*
 * console.c - COM1 console, the kernel log buffer, printk, panic and the
 * isa-debug-exit port.
 */
#include "kernel.h"

#define COM1 0x3f8
#define LOG_BUF_LEN (1 << 16)

/*
 * Every byte written to the console, in order (Linux's log_buf, without the
 * record structure): gdb's vs-dmesg reads log_buf[0..log_len).
 */
char log_buf[LOG_BUF_LEN];
unsigned long log_len;

void console_init(void)
{
	outb(COM1 + 1, 0x00); /* no UART interrupts */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void console_putc(char c)
{
	int spins = 100000;

	/* LSR bit 5: transmitter holding register empty. */
	while (!(inb(COM1 + 5) & 0x20) && --spins)
		cpu_relax();
	outb(COM1, (u8)c);
	if (log_len < LOG_BUF_LEN)
		log_buf[log_len++] = c;
}

static char *put_num(char *p, char *end, unsigned long v, int base, int width, int zero, int neg, int left)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	int pad = width > n ? width - n : 0;
	if (!left)
		while (pad-- > 0 && p < end)
			*p++ = zero ? '0' : ' ';
	while (n > 0 && p < end)
		*p++ = tmp[--n];
	if (left)
		while (pad-- > 0 && p < end)
			*p++ = ' ';
	return p;
}

/* A small vsnprintf: %s %c %d %i %u %x %p %%, with 0, - and width, l/ll/z. */
int vsnprintf(char *buf, unsigned long size, const char *fmt, va_list ap)
{
	char *p = buf, *end = buf + size - 1;

	for (; *fmt && p < end; fmt++) {
		if (*fmt != '%') {
			*p++ = *fmt;
			continue;
		}
		fmt++;
		int zero = 0, left = 0, width = 0, lng = 0;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = 1;
			else if (*fmt == '-')
				left = 1;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int n = (int)strlen(s);
			int pad = width > n ? width - n : 0;
			if (!left)
				while (pad-- > 0 && p < end)
					*p++ = ' ';
			while (*s && p < end)
				*p++ = *s++;
			if (left)
				while (pad-- > 0 && p < end)
					*p++ = ' ';
			break;
		}
		case 'c':
			*p++ = (char)va_arg(ap, int);
			break;
		case 'd':
		case 'i': {
			long v = lng ? va_arg(ap, long) : va_arg(ap, int);
			p = put_num(p, end, v < 0 ? -(unsigned long)v : (unsigned long)v, 10, width, zero, v < 0, left);
			break;
		}
		case 'u':
			p = put_num(p, end, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int), 10, width, zero, 0,
				    left);
			break;
		case 'x':
			p = put_num(p, end, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int), 16, width, zero, 0,
				    left);
			break;
		case 'p':
			if (p + 2 <= end) {
				*p++ = '0';
				*p++ = 'x';
			}
			p = put_num(p, end, (unsigned long)va_arg(ap, void *), 16, 16, 1, 0, 0);
			break;
		case '%':
			*p++ = '%';
			break;
		case 0:
			fmt--;
			break;
		default:
			*p++ = '%';
			if (p < end)
				*p++ = *fmt;
		}
	}
	*p = 0;
	return (int)(p - buf);
}

int snprintf(char *buf, unsigned long size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * printk formats into a stack buffer and writes it with interrupts off, so a
 * line is never split by a context switch.
 */
int printk(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	unsigned long flags = local_irq_save();
	for (int i = 0; i < n; i++)
		console_putc(buf[i]);
	local_irq_restore(flags);
	return n;
}

/*
 * isa-debug-exit (QEMU hw/misc/debugexit.c, default iobase 0x501): writing
 * V makes QEMU exit with status (V << 1) | 1. Without the device we halt.
 */
void __noreturn debug_exit(int code)
{
	local_irq_disable();
	outb(0x501, (u8)code);
	for (;;)
		halt();
}

noinline void __noreturn panic(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	local_irq_disable();
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printk("Kernel panic - not syncing: %s\n", buf);
	printk("---[ end Kernel panic - not syncing: %s ]---\n", buf);
	debug_exit(1);
}
