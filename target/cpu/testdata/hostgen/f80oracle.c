/*
 * f80oracle.c: host oracle for f80Rows (../../float80_test.go,
 * TestX87Float80AgainstHost).
 *
 * Reads lines "op fcw a.se a.m b.se b.m" (hex) from stdin. For each it
 * loads the control word, pushes b then a (so ST0 = a, ST1 = b), runs the
 * x87 instruction named by op natively and prints the Go table row
 *
 *   {"op", fcw, ext{a}, ext{b}, ext{r}, fsw, swMask},
 *
 * r is ST0 afterwards, or for the stores (fst32 fst64 fist16 fist32
 * fisttp64 and their u- forms) the stored bits in r.m, or zero for
 * com/ucom (for comi/ucomi/ufcomi/ufcomip, not in the table, r.m is
 * RFLAGS & 0x8d5); fsw is the whole status word after the instruction; swMask
 * says which FSW bits the test compares (see mask() below).
 *
 * Plain ops run with the control word as given (the table uses all
 * exceptions masked). The "u" ops (uadd, usub, ... but not ucom) are the
 * same instructions read back with FNSAVE instead of FSTP, for control
 * words with exceptions unmasked: an unmasked exception leaves the pending
 * ES/B bits in the saved FSW instead of trapping, since nothing waits.
 *
 * Operands in the committed table were drawn at random (zeros, denormals,
 * pseudo-denormals, unnormals, infinities, NaNs, exponents near the limits,
 * long runs of ones; every PC/RC) by a development Go test that was not
 * kept; regen.sh feeds this program the table's own operands.
 */
#include <stdio.h>
#include <string.h>
#include <stdint.h>
typedef struct { uint64_t m; uint16_t se; } __attribute__((packed)) f80;

/* The FSW bits TestX87Float80AgainstHost compares for op. */
static unsigned mask(const char *op) {
  static const char *const cc[] = {"com", "ucom", "prem", "prem1", 0};
  static const char *const unm[] = {"uadd", "usub", "umul", "udiv", "usqrt", "urndint", "uscale",
                                    "ufst32", "ufst64", "ufist16", "ufist32", 0};
  static const char *const unmcc[] = {"uprem", "uprem1", "ufcom", 0};
  for (int i = 0; cc[i]; i++) if (!strcmp(op, cc[i])) return 0x473f;
  for (int i = 0; unm[i]; i++) if (!strcmp(op, unm[i])) return 0x82ff;
  for (int i = 0; unmcc[i]; i++) if (!strcmp(op, unmcc[i])) return 0xc7ff;
  if (!strcmp(op, "xam")) return 0x4700;
  if (!strcmp(op, "fist64") || !strcmp(op, "fisttp64")) return 0x003f;
  return 0x023f;
}

/* Print one Go row of f80Rows. */
static void emit(const char *op, unsigned fcw, f80 a, f80 b, f80 r1, uint16_t sw, uint64_t mem) {
  const char *base = op[0] == 'u' ? op + 1 : op;
  f80 r = r1;
  if (!strncmp(base, "fst", 3) || !strncmp(base, "fist", 4) || strstr(base, "comi")) { r.se = 0; r.m = mem; }
  else if (!strcmp(op, "com") || !strcmp(op, "ucom")) { r.se = 0; r.m = 0; }
  printf("\t{\"%s\", 0x%04x, ext{0x%04x, 0x%016llx}, ext{0x%04x, 0x%016llx}, ext{0x%04x, 0x%016llx}, 0x%04x, 0x%04x},\n",
         op, fcw, a.se, (unsigned long long)a.m, b.se, (unsigned long long)b.m, r.se, (unsigned long long)r.m, sw, mask(op));
  fflush(stdout);
}
int main(void) {
  char op[32]; unsigned fcw, ase, bse; unsigned long long am, bm;
  while (scanf("%31s %x %x %llx %x %llx", op, &fcw, &ase, &am, &bse, &bm) == 6) {
    f80 a = {am, ase}, b = {bm, bse}, r1 = {0,0}, r2 = {0,0};
    uint16_t cw = fcw, sw = 0; uint64_t mem = 0; uint64_t fl = 0;
#define BIN(insn) asm volatile("fninit\n fldcw %[cw]\n fldt %[b]\n fldt %[a]\n " insn "\n fnstsw %[sw]\n fstpt %[r1]\n fstpt %[r2]\n fninit" : [sw]"=m"(sw), [r1]"=m"(r1), [r2]"=m"(r2), [mem]"+m"(mem) : [cw]"m"(cw), [a]"m"(a), [b]"m"(b) : "memory")
#define FL(insn) asm volatile("fninit\n fldcw %[cw]\n fldt %[b]\n fldt %[a]\n " insn "\n pushfq\n popq %[fl]\n fnstsw %[sw]\n fninit" : [sw]"=m"(sw), [fl]"=r"(fl) : [cw]"m"(cw), [a]"m"(a), [b]"m"(b) : "memory", "cc")
    unsigned char sv[108];
#define BINU(insn) asm volatile("fninit\n fldcw %[cw]\n fldt %[b]\n fldt %[a]\n " insn "\n fnsave %[sv]\n fninit" : [sv]"=m"(sv), [mem]"+m"(mem) : [cw]"m"(cw), [a]"m"(a), [b]"m"(b) : "memory")
    if (op[0] == 'u' && strncmp(op, "ucom", 4)) {
      if (!strcmp(op,"uadd")) BINU("fadd %%st(1), %%st");
      else if (!strcmp(op,"usub")) BINU("fsub %%st(1), %%st");
      else if (!strcmp(op,"umul")) BINU("fmul %%st(1), %%st");
      else if (!strcmp(op,"udiv")) BINU("fdiv %%st(1), %%st");
      else if (!strcmp(op,"usqrt")) BINU("fsqrt");
      else if (!strcmp(op,"urndint")) BINU("frndint");
      else if (!strcmp(op,"uscale")) BINU("fscale");
      else if (!strcmp(op,"ufst32")) BINU("fsts %[mem]");
      else if (!strcmp(op,"ufst64")) BINU("fstl %[mem]");
      else if (!strcmp(op,"ufist16")) BINU("fists %[mem]");
      else if (!strcmp(op,"ufist32")) BINU("fistl %[mem]");
      else if (!strcmp(op,"uprem")) BINU("fprem");
      else if (!strcmp(op,"uprem1")) BINU("fprem1");
      else if (!strcmp(op,"ufcom")) BINU("fcom %%st(1)");
      else if (!strcmp(op,"usin")) BINU("fsin");
      else if (!strcmp(op,"ucos")) BINU("fcos");
      else if (!strcmp(op,"uatan")) BINU("fpatan");
      else if (!strcmp(op,"uyl2x")) BINU("fyl2x");
      else if (!strcmp(op,"uyl2xp1")) BINU("fyl2xp1");
      else if (!strcmp(op,"uf2xm1")) BINU("f2xm1");
      else if (!strcmp(op,"ufcomp")) BINU("fcomp %%st(1)");
      else if (!strcmp(op,"ufcomi")) { asm volatile("fninit\n fldcw %[cw]\n fldt %[b]\n fldt %[a]\n fcomi %%st(1), %%st\n pushfq\n popq %[fl]\n fnsave %[sv]\n fninit" : [sv]"=m"(sv), [fl]"=r"(fl) : [cw]"m"(cw), [a]"m"(a), [b]"m"(b) : "memory", "cc"); mem = fl & 0x8d5; }
      else if (!strcmp(op,"ufcomip")) { asm volatile("fninit\n fldcw %[cw]\n fldt %[b]\n fldt %[a]\n fcomip %%st(1), %%st\n pushfq\n popq %[fl]\n fnsave %[sv]\n fninit" : [sv]"=m"(sv), [fl]"=r"(fl) : [cw]"m"(cw), [a]"m"(a), [b]"m"(b) : "memory", "cc"); mem = fl & 0x8d5; }
      memcpy(&r1, sv+28, 10); memcpy(&r2, sv+38, 10); memcpy(&sw, sv+4, 2);
      emit(op, fcw, a, b, r1, sw, mem);
      continue;
    }
    if (!strcmp(op,"add")) BIN("fadd %%st(1), %%st");
    else if (!strcmp(op,"sub")) BIN("fsub %%st(1), %%st");
    else if (!strcmp(op,"mul")) BIN("fmul %%st(1), %%st");
    else if (!strcmp(op,"div")) BIN("fdiv %%st(1), %%st");
    else if (!strcmp(op,"sqrt")) BIN("fsqrt");
    else if (!strcmp(op,"rndint")) BIN("frndint");
    else if (!strcmp(op,"scale")) BIN("fscale");
    else if (!strcmp(op,"prem")) BIN("fprem");
    else if (!strcmp(op,"prem1")) BIN("fprem1");
    else if (!strcmp(op,"sin")) BIN("fsin");
    else if (!strcmp(op,"cos")) BIN("fcos");
    else if (!strcmp(op,"tan")) BIN("fptan\n fstp %%st(0)");
    else if (!strcmp(op,"sincos")) BIN("fsincos\n fxch");
    else if (!strcmp(op,"atan")) BIN("fpatan");
    else if (!strcmp(op,"yl2x")) BIN("fyl2x");
    else if (!strcmp(op,"yl2xp1")) BIN("fyl2xp1");
    else if (!strcmp(op,"f2xm1")) BIN("f2xm1");
    else if (!strcmp(op,"xtract")) BIN("fxtract");
    else if (!strcmp(op,"xtract2")) BIN("fxtract\n fxch");
    else if (!strcmp(op,"fst32")) BIN("fsts %[mem]");
    else if (!strcmp(op,"fst64")) BIN("fstl %[mem]");
    else if (!strcmp(op,"fist16")) BIN("fists %[mem]");
    else if (!strcmp(op,"fist32")) BIN("fistl %[mem]");
    else if (!strcmp(op,"fist64")) BIN("fistpll %[mem]\n fld %%st(0)");
    else if (!strcmp(op,"fisttp64")) BIN("fisttpll %[mem]\n fld %%st(0)");
    else if (!strcmp(op,"fld32")) { mem = am; BIN("fstp %%st(0)\n flds %[mem]"); }
    else if (!strcmp(op,"fld64")) { mem = am; BIN("fstp %%st(0)\n fldl %[mem]"); }
    else if (!strcmp(op,"add32")) { mem = bm; BIN("fadds %[mem]"); }
    else if (!strcmp(op,"com")) BIN("fcom %%st(1)");
    else if (!strcmp(op,"ucom")) BIN("fucom %%st(1)");
    else if (!strcmp(op,"comi")) { FL("fcomi %%st(1), %%st"); mem = fl & 0x8d5; }
    else if (!strcmp(op,"ucomi")) { FL("fucomi %%st(1), %%st"); mem = fl & 0x8d5; }
    else if (!strcmp(op,"xam")) BIN("fxam");
    else if (!strcmp(op,"const")) { /* am selects */ 
      switch (am) {
      case 0: BIN("fldpi"); break; case 1: BIN("fldl2e"); break; case 2: BIN("fldl2t"); break;
      case 3: BIN("fldlg2"); break; default: BIN("fldln2"); }
    }
    else { fprintf(stderr, "unknown op %s\n", op); return 1; }
    emit(op, fcw, a, b, r1, sw, mem);
  }
  return 0;
}
