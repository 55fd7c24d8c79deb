package cpu

import (
	"encoding/hex"
	"testing"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// Unmasked SIMD floating-point exceptions, recorded on the host (AMD
// EPYC; testdata/hostgen/sse_unmasked.c, rerun by regen.sh there) with
// a SIGFPE handler reading MXCSR and XMM0 from the signal
// frame: the instruction (op %xmm1,%xmm0) under a random MXCSR (some
// masks clear, any rounding mode, FTZ, DAZ), whether it raised #XM, and
// MXCSR and XMM0 afterwards (at the fault: the destination unchanged,
// the flags of SDM Vol. 1 11.5.3 set).
var sseUnmaskedRows = []struct {
	code   string
	mx     uint32
	in     [4]uint64 // XMM0 lo, hi, XMM1 lo, hi
	fault  bool
	mxOut  uint32
	x0, x1 uint64
}{
	{"0f58c1", 0x5bc0, [4]uint64{0x7fb96beb, 0x1910adc47f363d5a, 0xffc1cd3d, 0x807ffffdc07d9a66}, false, 0x5be1, 0x7ff96beb, 0x1910adc47f363d5a},                             // addps
	{"660f58c1", 0x3e00, [4]uint64{0xfff0000000000000, 0x1bc36cf8821a96, 0x3f6fffffffffffff, 0x92af2507bef95}, true, 0x3e02, 0xfff0000000000000, 0x1bc36cf8821a96},           // addpd
	{"f30f58c1", 0xcd80, [4]uint64{0x8196da65ff800000, 0xa89b37fc29192, 0x4c23ea13ff88b48f, 0x3af28043ffaf50d1}, false, 0xcd81, 0x8196da65ffc8b48f, 0xa89b37fc29192},         // addss
	{"f20f58c1", 0x9940, [4]uint64{0xbffc000000000000, 0xcbe247798ba48374, 0xbff2000000000000, 0x7fea17f70e50c2a6}, false, 0x9940, 0xc007000000000000, 0xcbe247798ba48374},   // addsd
	{"0f5cc1", 0xcf40, [4]uint64{0x3fc00000df1c7120, 0x3fb0000000000000, 0xf7992ba9ff89b657, 0x81473626ffe5d7a7}, true, 0xcf41, 0x3fc00000df1c7120, 0x3fb0000000000000},      // subps
	{"f20f5cc1", 0x7b00, [4]uint64{0x800ffffffffffffe, 0x67c9df41e52aa01a, 0xf2ff5eacb169f398, 0x7ff0bb973d095de9}, false, 0x7b22, 0x72ff5eacb169f397, 0x67c9df41e52aa01a},   // subsd
	{"0f59c1", 0xe900, [4]uint64{0xff80000024869813, 0x807fffffeb4798f3, 0xbfc0000080d8222a, 0x80000000237e8112}, true, 0xe932, 0xff80000024869813, 0x807fffffeb4798f3},      // mulps
	{"660f59c1", 0xe00, [4]uint64{0xffebeef37306e5b2, 0x7ff331966b8313bd, 0x802fdf39b062ef1a, 0x43f2f4c3c434f}, true, 0xe01, 0xffebeef37306e5b2, 0x7ff331966b8313bd},         // mulpd
	{"f30f59c1", 0x3880, [4]uint64{0x7ffffe3fd00000, 0x80f70ffdffa701d7, 0x3fd00000ff057a35, 0x5873857fb112ff}, false, 0x38a0, 0x7ffffeff58e697, 0x80f70ffdffa701d7},         // mulss
	{"f20f59c1", 0x1e40, [4]uint64{0xbf1fffffffffffff, 0x38a90e72470c7ea1, 0xecf425fb097ba24e, 0xbebfffffffffffff}, false, 0x1e60, 0x6c2425fb097ba24d, 0x38a90e72470c7ea1},   // mulsd
	{"0f5ec1", 0x7280, [4]uint64{0x63d979ff800000, 0x7fae3aa1ff4128ed, 0x53fff544ff66a, 0xff80000000000000}, true, 0x7287, 0x63d979ff800000, 0x7fae3aa1ff4128ed},             // divps
	{"660f5ec1", 0x3400, [4]uint64{0x0, 0x11a3799765dd06, 0xfff0000000000000, 0x7fef78ab34c2491f}, true, 0x3430, 0x0, 0x11a3799765dd06},                                      // divpd
	{"f30f5ec1", 0x380, [4]uint64{0x287675a3812e52ec, 0xa87db197807fffff, 0xffdcb1243f800000, 0xff3412467f800000}, false, 0x380, 0x287675a3812e52ec, 0xa87db197807fffff},     // divss
	{"f20f5ec1", 0x6140, [4]uint64{0x7feee58d96dea27a, 0x8000000000000000, 0x7ff0000000000000, 0xbff8000000000000}, false, 0x6140, 0x0, 0x8000000000000000},                  // divsd
	{"0f51c1", 0x780, [4]uint64{0xba6b64807ffffe, 0xff045e52ffb0f40d, 0x23558fa4d67cc3f0, 0x267e2593effffff}, true, 0x7a1, 0xba6b64807ffffe, 0xff045e52ffb0f40d},             // sqrtps
	{"660f51c1", 0x7b80, [4]uint64{0x4f3dccc739b0d, 0x3f9fffffffffffff, 0x1da1853283a846, 0x24744c0f4feb086a}, false, 0x7ba0, 0x2005c612b80d2352, 0x3232055b5776a0ab},        // sqrtpd
	{"f30f51c1", 0x1e80, [4]uint64{0xb37fffff032b4975, 0x7f800000001397a5, 0x802013d9760e62b2, 0x4fb222e004a8f4f}, false, 0x1ea0, 0xb37fffff5abeebb0, 0x7f800000001397a5},    // sqrtss
	{"f20f51c1", 0x4940, [4]uint64{0xfffffffffffff, 0x548eba63328bf6ae, 0x10ea82fb12238737, 0x8000000000000000}, true, 0x4960, 0xfffffffffffff, 0x548eba63328bf6ae},          // sqrtsd
	{"0f5dc1", 0x4d00, [4]uint64{0x7f4936a900000000, 0x8000000000000000, 0x803f9173824ab8de, 0x7f800000807ffffd}, false, 0x4d02, 0x803f9173824ab8de, 0x80000000807ffffd},     // minps
	{"660f5fc1", 0xd00, [4]uint64{0xbeafffffffffffff, 0x7fed6a9d9d1d7e9b, 0x7ff0000000000000, 0x3ecfffffffffffff}, false, 0xd00, 0x7ff0000000000000, 0x7fed6a9d9d1d7e9b},     // maxpd
	{"f20f5dc1", 0x2f80, [4]uint64{0x753ced4bb7d91da5, 0x7fe821971d79f73b, 0x804ad7c93483cfa4, 0xcff4ac4ad8319}, false, 0x2f80, 0x804ad7c93483cfa4, 0x7fe821971d79f73b},      // minsd
	{"f30f5fc1", 0x1300, [4]uint64{0xbe7fffff81146b32, 0x807fffff145e3bf0, 0xffb1eb5307392dbb, 0xd633b3bf900000}, false, 0x1300, 0xbe7fffff07392dbb, 0x807fffff145e3bf0},     // maxss
	{"0fc2c101", 0xda00, [4]uint64{0x7f3059df7f0d5d87, 0x530ff97f800000, 0x5e0d8e2aaaeddff7, 0x12d119ec007ffffe}, true, 0xda02, 0x7f3059df7f0d5d87, 0x530ff97f800000},        // cmpltps
	{"660fc2c102", 0x4080, [4]uint64{0x4f9a2ccf98ea2099, 0x4f2115a1dabce5, 0x7ff19a3d2d87e667, 0xfff0000000000000}, false, 0x4081, 0x0, 0x0},                                 // cmplepd
	{"f30fc2c100", 0x2d80, [4]uint64{0x3506fafa00bd665b, 0x80000000006c6a21, 0x9ff16c7d009d1dea, 0x7fe0c582007ffffd}, false, 0x2d80, 0x3506fafa00000000, 0x80000000006c6a21}, // cmpeqss
	{"f20fc2c103", 0x8740, [4]uint64{0xe2c5244bbaf8d0f1, 0x25ec2756ec7615, 0x0, 0x3e6fffffffffffff}, false, 0x8740, 0x0, 0x25ec2756ec7615},                                   // cmpunordsd
	{"660f5ac1", 0x5940, [4]uint64{0x90248b886f687b6b, 0x800ffffffffffffe, 0xe7ede274923859a6, 0xbf9fffffffffffff}, true, 0x5968, 0x90248b886f687b6b, 0x800ffffffffffffe},    // cvtpd2ps
	{"0f5ac1", 0x2ec0, [4]uint64{0xfffffffffffff, 0xffffffffffffd, 0xae5036c57a3a6924, 0x3ffa000000000000}, false, 0x2ec0, 0x47474d2480000000, 0xbdca06d8a0000000},           // cvtps2pd
	{"0f5bc1", 0x1f00, [4]uint64{0x47d0f4dc09a64295, 0xcc722098e0c81cc4, 0x31ae9c4993a35b8d, 0x4ee157be1c0633bd}, false, 0x1f20, 0x4e46ba71ced8b949, 0x4e9dc2af4de0319e},     // cvtdq2ps
	{"660f5bc1", 0x2540, [4]uint64{0x1a35ea754e960a9a, 0x7f6f3499ff1a4f08, 0x9d6a75f7a35e39f7, 0xff19c2f0807ffffd}, true, 0x2541, 0x1a35ea754e960a9a, 0x7f6f3499ff1a4f08},    // cvtps2dq
	{"660fe6c1", 0x2500, [4]uint64{0x7ff8a478ce0ab9e5, 0xfff0000000000000, 0x8000000000000000, 0x3f0fffffffffffff}, true, 0x2520, 0x7ff8a478ce0ab9e5, 0xfff0000000000000},    // cvttpd2dq
	{"f20fe6c1", 0xa280, [4]uint64{0xfff8f77f1804b834, 0xfff0000000000000, 0x3ffc000000000000, 0x17cf8f7f1d2850}, true, 0xa2a0, 0xfff8f77f1804b834, 0xfff0000000000000},      // cvtpd2dq
	{"f20f5ac1", 0xee00, [4]uint64{0x9ef55200ecbc79, 0x8177000b00000000, 0x6a6bfe66ffcb3795, 0x61258c59807ffffd}, true, 0xee28, 0x9ef55200ecbc79, 0x8177000b00000000},        // cvtsd2ss
	{"f30f5ac1", 0x1b00, [4]uint64{0xffe53c87dea9dc60, 0x7feb0e3f602cead2, 0x947763849a09d, 0x7ffb95eb28c7af9b}, false, 0x1b00, 0x3f093413a0000000, 0x7feb0e3f602cead2},      // cvtss2sd
	{"f20f7cc1", 0x4a00, [4]uint64{0x8069500b7fbd7595, 0xff8000007feeee8e, 0x1fd539f00000000, 0xc591d984009a24b0}, true, 0x4a01, 0x8069500b7fbd7595, 0xff8000007feeee8e},     // haddps
	{"660f7dc1", 0xbe80, [4]uint64{0x321c7ef1288eff6c, 0x804e45ff31179e0e, 0x801e944a37e08d33, 0x8000000000000000}, false, 0xbea0, 0x321c7ef1288eff6c, 0x801e944a37e08d33},   // hsubpd
	{"f20fd0c1", 0xb2c0, [4]uint64{0x39ad2f3ff00000, 0x2b6bdd807ffffd, 0x7f971bbb00ed934f, 0x807ffffeffefd102}, false, 0xb2e1, 0x7fd71bbb3fefffff, 0x80000000ffefd102},       // addsubps
	{"660fd0c1", 0x4f80, [4]uint64{0xfb70ced4c092cda6, 0x801126383941e2ba, 0x8011c37586d3c031, 0x800b0ed39ad6b5bb}, true, 0x4fa2, 0xfb70ced4c092cda6, 0x801126383941e2ba},    // addsubpd
	{"0f58c1", 0xeb40, [4]uint64{0x8d9fac27933857, 0xb7dc00fe1ef45701, 0x7ffffd012240b1, 0x7fb4371f32cfd1cf}, true, 0xeb41, 0x8d9fac27933857, 0xb7dc00fe1ef45701},            // addps
	{"660f58c1", 0x7600, [4]uint64{0x67f992d21785233a, 0xbfafffffffffffff, 0xbff2000000000000, 0xffffffffffffd}, true, 0x7602, 0x67f992d21785233a, 0xbfafffffffffffff},       // addpd
	{"f30f58c1", 0x6140, [4]uint64{0xfa1212ff800000, 0x7f8000008010f071, 0x807ffffd00000000, 0x7f800000e7f99f1f}, false, 0x6140, 0xfa1212ff800000, 0x7f8000008010f071},       // addss
	{"f20f58c1", 0x1d80, [4]uint64{0xbf6fffffffffffff, 0xfff92053bf8ea14a, 0xbff0000000000000, 0xbff6000000000000}, false, 0x1da0, 0xbff0100000000000, 0xfff92053bf8ea14a},   // addsd
	{"0f5cc1", 0x6c80, [4]uint64{0xf1b4e0f0807bcf4f, 0x5b85b1d580896be0, 0x426b85c6007ffffd, 0x80ca0913f6cf8d4b}, true, 0x6c82, 0xf1b4e0f0807bcf4f, 0x5b85b1d580896be0},      // subps
	{"f20f5cc1", 0xa00, [4]uint64{0x1c62010b579c2f1f, 0x3fffffffffffffff, 0xbff0000000000000, 0x7ff8218bcd77e2a5}, true, 0xa20, 0x1c62010b579c2f1f, 0x3fffffffffffffff},      // subsd
	{"0f59c1", 0xa940, [4]uint64{0x7f800000007ffffd, 0xbfd0000037336d97, 0x7feb7eb6, 0x7fda8f247f0f97f1}, true, 0xa941, 0x7f800000007ffffd, 0xbfd0000037336d97},              // mulps
	{"660f59c1", 0x1600, [4]uint64{0x66d7dd9c43fc1068, 0xbffc000000000000, 0xbf4fffffffffffff, 0xfffadc6a9b9d95a2}, false, 0x1620, 0xe637dd9c43fc1067, 0xfffadc6a9b9d95a2},   // mulpd
	{"f30f59c1", 0x5680, [4]uint64{0xb97fffff09b96ed1, 0xbad0a7806a304b, 0x3c16ab807fffff, 0x3fb00000ffa8ad05}, true, 0x5682, 0xb97fffff09b96ed1, 0xbad0a7806a304b},          // mulss
	{"f20f59c1", 0x5980, [4]uint64{0x8033b4539667834a, 0x800ee546bb759161, 0xffffffffffffd, 0x22089c8bab9d61fb}, false, 0x59b2, 0x8000000000000000, 0x800ee546bb759161},      // mulsd
	{"0f5ec1", 0xb00, [4]uint64{0x3b7fffff80781381, 0xbff00000806cf4df, 0xcc73afff800000, 0xffb47d17204973d9}, true, 0xb03, 0x3b7fffff80781381, 0xbff00000806cf4df},          // divps
	{"660f5ec1", 0x2340, [4]uint64{0x36e4583df353d7, 0x10a391c2c2efdc, 0x16979587fb58a5, 0xfff37d76051d355d}, true, 0x2341, 0x36e4583df353d7, 0x10a391c2c2efdc},              // divpd
	{"f30f5ec1", 0x4380, [4]uint64{0xf2125e2064cca7a1, 0x7f7124a9ff984863, 0xff612fe8022f5252, 0x8032c5a1ffa9a541}, true, 0x43a8, 0xf2125e2064cca7a1, 0x7f7124a9ff984863},    // divss
	{"f20f5ec1", 0xa40, [4]uint64{0xa8703d51fc53fe5a, 0xbffc000000000000, 0x80145cbbbb1cfa83, 0xbebfffffffffffff}, true, 0xa60, 0xa8703d51fc53fe5a, 0xbffc000000000000},      // divsd
	{"0f51c1", 0x2d80, [4]uint64{0x80cc19e013bdca4f, 0xffde0cc10273a122, 0x7dadc45c, 0xbff00000805fe19d}, true, 0x2da1, 0x80cc19e013bdca4f, 0xffde0cc10273a122},              // sqrtps
	{"660f51c1", 0x4980, [4]uint64{0xffffffffffffd, 0x800dd0143cb43dd7, 0x0, 0x420967df039d6626}, true, 0x49a0, 0xffffffffffffd, 0x800dd0143cb43dd7},                         // sqrtpd
	{"f30f51c1", 0x3280, [4]uint64{0x8056574bbfa00000, 0x7ffffe3effffff, 0xc5c101ff800000, 0xff8000007f96eaf7}, false, 0x3281, 0x8056574bffc00000, 0x7ffffe3effffff},         // sqrtss
	{"f20f51c1", 0x5740, [4]uint64{0x801ced5b1c4080bb, 0x73f784d556f52895, 0x3eafffffffffffff, 0x1dbf2151cfcaf0}, false, 0x5760, 0x3f50000000000000, 0x73f784d556f52895},     // sqrtsd
	{"0f5dc1", 0xb400, [4]uint64{0x80000000ffe3b524, 0x9e4bb301ff800000, 0xde0e0266397fffff, 0x80575e4d0092e726}, true, 0xb403, 0x80000000ffe3b524, 0x9e4bb301ff800000},      // minps
	{"660f5fc1", 0x6480, [4]uint64{0x12cd1f49032c277a, 0x2ec31f0292f597, 0xffffffffffffd, 0x880755e13e37fd42}, true, 0x6482, 0x12cd1f49032c277a, 0x2ec31f0292f597},           // maxpd
	{"f20f5dc1", 0x6a00, [4]uint64{0x7fe3f1b87ef36e97, 0x48e3d4de948b3, 0xd0250b7648ddf, 0x953651dbb6480d9d}, true, 0x6a02, 0x7fe3f1b87ef36e97, 0x48e3d4de948b3},             // minsd
	{"f30f5fc1", 0x86c0, [4]uint64{0x7fe9968e00e7f4db, 0x892458ddda0b46, 0x7c4e025f807ffffd, 0x893b82539753ccba}, false, 0x86c0, 0x7fe9968e00e7f4db, 0x892458ddda0b46},       // maxss
	{"0fc2c101", 0x5500, [4]uint64{0x82556800000000, 0x7f80000031e7072e, 0x6565a29235ffffff, 0xff8000007fa6b7bf}, true, 0x5501, 0x82556800000000, 0x7f80000031e7072e},        // cmpltps
	{"660fc2c102", 0x3500, [4]uint64{0xbe4fffffffffffff, 0x3c8f2b077e8acccd, 0x7ff4c6ae7d8ee253, 0xbebfffffffffffff}, true, 0x3501, 0xbe4fffffffffffff, 0x3c8f2b077e8acccd},  // cmplepd
	{"f30fc2c100", 0x6ac0, [4]uint64{0x7fb327855be97358, 0x7f9ec1f57f33f624, 0x807fffff, 0x80faddf1805f0953}, false, 0x6ac0, 0x7fb3278500000000, 0x7f9ec1f57f33f624},         // cmpeqss
	{"f20fc2c103", 0xf280, [4]uint64{0x0, 0x7f2e1a5a8b2c0319, 0x3e6341371e217, 0x8000000000000000}, true, 0xf282, 0x0, 0x7f2e1a5a8b2c0319},                                   // cmpunordsd
	{"660f5ac1", 0x5980, [4]uint64{0xfff075b30f254735, 0x800402e191cbc475, 0x511c6db11cde7f6, 0x802814989737abd1}, false, 0x59b0, 0x8000000000000001, 0x0},                   // cvtpd2ps
	{"0f5ac1", 0xa040, [4]uint64{0x7fe9dae28ecaf46e, 0x801cd9a7a0af5373, 0x7ff0000000000000, 0xbf3b9e467cce996f}, false, 0xa040, 0x0, 0x7ffe000000000000},                    // cvtps2pd
	{"0f5bc1", 0x7300, [4]uint64{0xaecbe0a837ecf2ce, 0x66a69ad52153000b, 0x527b678025447b8d, 0x7d981521808535c4}, false, 0x7320, 0x4ea4f6cf4e1511ee, 0x4efb302acefef594},     // cvtdq2ps
	{"660f5bc1", 0x5f00, [4]uint64{0xdaa6869b, 0x206f21fafff1650b, 0xbfb00000ff2b4314, 0xf936fc807ffffe}, true, 0x5f01, 0xdaa6869b, 0x206f21fafff1650b},                      // cvtps2dq
	{"660fe6c1", 0x3c40, [4]uint64{0xb51dbc5d9edcfe6b, 0x3ff8000000000000, 0xbff6000000000000, 0x8007a13d109afdb1}, false, 0x3c60, 0xffffffff, 0x0},                          // cvttpd2dq
	{"f20fe6c1", 0x3000, [4]uint64{0x6695a2645ebab, 0xffffffffffffd, 0x2300ece09a03b, 0xffffffffffffe}, false, 0x3020, 0x0, 0x0},                                             // cvtpd2dq
	{"f20f5ac1", 0x9ec0, [4]uint64{0x7f0bfe5980000000, 0xffabfea900000000, 0xff0a3f8c6f6e514a, 0xff2f89ab017e9ad0}, false, 0x9ee8, 0x7f0bfe59ff800000, 0xffabfea900000000},   // cvtsd2ss
	{"f30f5ac1", 0x6080, [4]uint64{0x8010f2ac449a8213, 0xdd4410f37546ff02, 0xfdeb315c4097303, 0x803c51a2848c648e}, false, 0x6080, 0xc0812e6060000000, 0xdd4410f37546ff02},    // cvtss2sd
	{"f20f7cc1", 0xeb80, [4]uint64{0x7fc6efdc35b2b85e, 0x29e8db02, 0xffe7fc1d7f021087, 0xb57fffff80000000}, false, 0xeb80, 0x29e8db027fc6efdc, 0xb57fffffffe7fc1d},           // haddps
	{"660f7dc1", 0x2000, [4]uint64{0xa18a0ae581339183, 0x8012cfa0adbc43d7, 0x3e2fffffffffffff, 0xfff6941c4b318f73}, true, 0x2001, 0xa18a0ae581339183, 0x8012cfa0adbc43d7},    // hsubpd
	{"f20fd0c1", 0x5c00, [4]uint64{0x80fdbe80bf900000, 0x7ffffd00b17eed, 0xfffbd13c00ae0229, 0x7f800000ffde8dfa}, true, 0x5c02, 0x80fdbe80bf900000, 0x7ffffd00b17eed},        // addsubps
	{"660fd0c1", 0xd280, [4]uint64{0xfffffffffffff, 0x7ff03c7b8116bfab, 0x800bf7cdf461bc6d, 0x2e32fbda3dc61d22}, true, 0xd283, 0xfffffffffffff, 0x7ff03c7b8116bfab},          // addsubpd
	{"0f58c1", 0x6680, [4]uint64{0x7f873bb17f800000, 0xbcffffff80719edd, 0x806ce765ff800000, 0x7fd6571480fb6af8}, true, 0x6683, 0x7f873bb17f800000, 0xbcffffff80719edd},      // addps
	{"660f58c1", 0x5800, [4]uint64{0xffed33d194feadb9, 0x3fdfffffffffffff, 0x7ff0000000000000, 0xffede34d3ac22a03}, false, 0x5820, 0x7ff0000000000000, 0xffede34d3ac22a02},   // addpd
	{"f30f58c1", 0x6700, [4]uint64{0x3fe00000, 0x67f6dee79b3a3b01, 0x807ffffdff800000, 0x2f2cb77e00000000}, false, 0x6700, 0xff800000, 0x67f6dee79b3a3b01},                   // addss
	{"f20f58c1", 0x5100, [4]uint64{0x4a9b7a1ec7ba57, 0x800b8178a3a3305f, 0xbf7fffffffffffff, 0x81bd04ddad6d0fe5}, false, 0x5120, 0xbf7ffffffffffffe, 0x800b8178a3a3305f},     // addsd
	{"0f5cc1", 0x1680, [4]uint64{0xbf8000000011b39f, 0xf9577ced8089b3e7, 0x7fd6a7bd38ffffff, 0x7c2f4b6280c0ab2a}, true, 0x1682, 0xbf8000000011b39f, 0xf9577ced8089b3e7},      // subps
	{"f20f5cc1", 0x1600, [4]uint64{0xfff0000000000000, 0xffffffffffffe, 0xe4d7b1bc0040933b, 0x804736c2689f4247}, false, 0x1600, 0xfff0000000000000, 0xffffffffffffe},         // subsd
	{"0f59c1", 0x6080, [4]uint64{0x807ffffeffb38bdd, 0xc4c28bf000c78dca, 0x7f10dc95007fffff, 0xffef6d997f4be6c4}, true, 0x6083, 0x807ffffeffb38bdd, 0xc4c28bf000c78dca},      // mulps
	{"660f59c1", 0x6980, [4]uint64{0x8019483e68d94504, 0x1309735ca98033, 0xfff0000000000000, 0x3ff2000000000000}, true, 0x69a0, 0x8019483e68d94504, 0x1309735ca98033},        // mulpd
	{"f30f59c1", 0x8a80, [4]uint64{0xbe7fffff80b8e1fa, 0xbdffffffff800000, 0xffedafa6800da7a3, 0x1a978e48bd7fffff}, true, 0x8a82, 0xbe7fffff80b8e1fa, 0xbdffffffff800000},    // mulss
	{"f20f59c1", 0x6680, [4]uint64{0x1734d9129cd21e, 0x3dbea2ab82f1d7b4, 0xfffcca2b4c3319d7, 0x800ffffffffffffe}, false, 0x6680, 0xfffcca2b4c3319d7, 0x3dbea2ab82f1d7b4},     // mulsd
	{"0f5ec1", 0xa700, [4]uint64{0xbfc000003fe00000, 0x180254a007fffff, 0xbfe0000080af9cb1, 0x3fa00000baffffff}, true, 0xa722, 0xbfc000003fe00000, 0x180254a007fffff},        // divps
	{"660f5ec1", 0x4b00, [4]uint64{0x8000000000000000, 0x800bb3e8b8ff8289, 0x3afd6cf4b55e2e16, 0x7ff8fb0bc5d7d84f}, false, 0x4b00, 0x8000000000000000, 0x7ff8fb0bc5d7d84f},   // divpd
	{"f30f5ec1", 0xe500, [4]uint64{0xff52f8dc0269f136, 0xff8000003c000aa2, 0x805189c71d5df8b3, 0x80cecadddc4946d7}, true, 0xe520, 0xff52f8dc0269f136, 0xff8000003c000aa2},    // divss
	{"f20f5ec1", 0x6a80, [4]uint64{0xedac2c70b35d9a29, 0x7ffef2170972ce66, 0x4829496845d444f4, 0x3fefffffffffffff}, true, 0x6aa0, 0xedac2c70b35d9a29, 0x7ffef2170972ce66},    // divsd
	{"0f51c1", 0x4b80, [4]uint64{0xff67db24488064e4, 0xa9a9127e00292595, 0x9cdd957f14f920, 0x3bffffff7f800000}, true, 0x4ba0, 0xff67db24488064e4, 0xa9a9127e00292595},        // sqrtps
	{"660f51c1", 0x7480, [4]uint64{0xe959a2fc6e4fe59f, 0x7fef3e8f9653e520, 0xffe002745f035a5b, 0xc7f339dbd6ecebc6}, false, 0x7481, 0xfff8000000000000, 0xfff8000000000000},   // sqrtpd
	{"f30f51c1", 0x2800, [4]uint64{0xbfd00000a160db05, 0x7ffffd9ad66457, 0x377fffff80000000, 0x58d85ca87f800000}, false, 0x2800, 0xbfd0000080000000, 0x7ffffd9ad66457},       // sqrtss
	{"f20f51c1", 0x7540, [4]uint64{0x8018abefbe202600, 0x19e02799c4b71c, 0x8044148845538865, 0xfff0000000000000}, true, 0x7541, 0x8018abefbe202600, 0x19e02799c4b71c},        // sqrtsd
	{"0f5dc1", 0xc180, [4]uint64{0x645d93bf80a2bedb, 0x80da8cf400abd860, 0x588167dfffb99d8f, 0xb5ffffff00000000}, false, 0xc181, 0x588167dfffb99d8f, 0xb5ffffff00000000},     // minps
	{"660f5fc1", 0xac00, [4]uint64{0xffe24019dd7775df, 0xfff0000000000000, 0xfff423efabdbf7f9, 0xfff33745ba07abe7}, true, 0xac01, 0xffe24019dd7775df, 0xfff0000000000000},    // maxpd
	{"f20f5dc1", 0x5400, [4]uint64{0x3fcfffffffffffff, 0x443953267c7bc2, 0x3f1fffffffffffff, 0x7ffffeb55f1a0971}, false, 0x5400, 0x3f1fffffffffffff, 0x443953267c7bc2},       // minsd
	{"f30f5fc1", 0x2140, [4]uint64{0x54543e77007fffff, 0x807ffffd80a1792c, 0xbfc000003effffff, 0x808b090b80d8151b}, false, 0x2140, 0x54543e773effffff, 0x807ffffd80a1792c},   // maxss
	{"0fc2c101", 0x6900, [4]uint64{0x7ffffdff3d3e03, 0xff057e79ff800000, 0xffb40af3cb15f056, 0x70d65e7300e690b0}, true, 0x6901, 0x7ffffdff3d3e03, 0xff057e79ff800000},        // cmpltps
	{"660fc2c102", 0x4e00, [4]uint64{0xbf2fffffffffffff, 0xffffffffffffd, 0xbffc000000000000, 0x7ff0000000000000}, true, 0x4e02, 0xbf2fffffffffffff, 0xffffffffffffd},        // cmplepd
	{"f30fc2c100", 0x4700, [4]uint64{0xff17451f38ffffff, 0x800000000a3a0496, 0x8029adb7ff800000, 0x29ec9ac20f425487}, false, 0x4700, 0xff17451f00000000, 0x800000000a3a0496}, // cmpeqss
	{"f20fc2c103", 0x3a00, [4]uint64{0x800ffffffffffffe, 0xd3a9252d09405, 0x801bdaaee40b09d8, 0xbffa000000000000}, true, 0x3a02, 0x800ffffffffffffe, 0xd3a9252d09405},        // cmpunordsd
	{"660f5ac1", 0x7080, [4]uint64{0x8000000000000000, 0x3ffa000000000000, 0x3ff6000000000000, 0xfffe60dcf30ae5f3}, false, 0x7080, 0xfff306e73fb00000, 0x0},                  // cvtpd2ps
	{"0f5ac1", 0x2700, [4]uint64{0xd9d5e295013baafa, 0xfff0000000000000, 0x7ff901ab1edddaab, 0xfff145fc395745d3}, false, 0x2700, 0x3bdbbb5560000000, 0x7fff203560000000},     // cvtps2pd
	{"0f5bc1", 0x4000, [4]uint64{0xd2609eb35f92b017, 0xeb51b1f3e7d1e31b, 0xe668ed21fcdcb61e, 0x2a6eae643e3048e3}, true, 0x4020, 0xd2609eb35f92b017, 0xeb51b1f3e7d1e31b},      // cvtdq2ps
	{"660f5bc1", 0xc280, [4]uint64{0xa8df59ff241564, 0xff57e395a75a4f1a, 0x5511e9c8bf800000, 0x1a1c17007ffffe}, true, 0xc2a1, 0xa8df59ff241564, 0xff57e395a75a4f1a},          // cvtps2dq
	{"660fe6c1", 0x480, [4]uint64{0x13d12185bb76f5, 0x0, 0xffffffffffffd, 0x4e470dce0e0f2913}, true, 0x4a1, 0x13d12185bb76f5, 0x0},                                           // cvttpd2dq
	{"f20fe6c1", 0xa940, [4]uint64{0xffe07dd8856bd2a5, 0xffe909589ff14208, 0x3ff2000000000000, 0x803fdaeef6ff1cef}, true, 0xa960, 0xffe07dd8856bd2a5, 0xffe909589ff14208},    // cvtpd2dq
	{"f20f5ac1", 0x6bc0, [4]uint64{0xb97fffffff800000, 0xd5e4f4773fe00000, 0x805ebf8392a235f2, 0xd996dcff026b03a6}, true, 0x6bf0, 0xb97fffffff800000, 0xd5e4f4773fe00000},    // cvtsd2ss
	{"f30f5ac1", 0x3c0, [4]uint64{0x8047fbea25ec59d4, 0x6d16f67d90a484c3, 0xfffffffffffff, 0xbf8fffffffffffff}, false, 0x3c0, 0xffffffffe0000000, 0x6d16f67d90a484c3},        // cvtss2sd
	{"f20f7cc1", 0x8480, [4]uint64{0xd775b7257d71b163, 0x6a98d3cd7fd606f0, 0x448479de0097af70, 0x7f0ef651bfffffff}, true, 0x84a0, 0xd775b7257d71b163, 0x6a98d3cd7fd606f0},    // haddps
	{"660f7dc1", 0xd80, [4]uint64{0x32de15a0451dd50f, 0x793b57c96dae5, 0xfff0000000000000, 0x0}, true, 0xda2, 0x32de15a0451dd50f, 0x793b57c96dae5},                           // hsubpd
	{"f20fd0c1", 0x4280, [4]uint64{0xff8000003f900000, 0x807fffffbfffffff, 0xfffdc16180dad620, 0x35ffffffc67f870e}, true, 0x4282, 0xff8000003f900000, 0x807fffffbfffffff},    // addsubps
	{"660fd0c1", 0x6b00, [4]uint64{0xfff0000000000000, 0x3ff0000000000000, 0x22ce6a9a9994bb, 0x80105e980f7464c8}, true, 0x6b20, 0xfff0000000000000, 0x3ff0000000000000},      // addsubpd
	{"0f58c1", 0xb0c0, [4]uint64{0xbff00000ff3bed74, 0x80000000fec45277, 0x7f800000, 0x7f9cbb257f0c2ec2}, false, 0xb0c1, 0xbff000007f800000, 0x7fdcbb257e28161a},             // addps
	{"660f58c1", 0xf780, [4]uint64{0xbd40f5a13af4181b, 0x80290c758e3879b8, 0x20a3402fa0695bef, 0x0}, false, 0xf7a0, 0xbd40f5a13af4181a, 0x80290c758e3879b8},                  // addpd
	{"f30f58c1", 0x4580, [4]uint64{0xffbdc381ff99a13d, 0xb57fffff007ffffe, 0x807ffffebf900000, 0x575baacc801c36ed}, false, 0x4581, 0xffbdc381ffd9a13d, 0xb57fffff007ffffe},   // addss
	{"f20f58c1", 0x6f80, [4]uint64{0xcaa694e4843cf, 0xc64dbfc782c0a68f, 0xfff547ffdfbe7467, 0x800d4c231e0cd8ef}, false, 0x6f81, 0xfffd47ffdfbe7467, 0xc64dbfc782c0a68f},      // addsd
	{"0f5cc1", 0x3700, [4]uint64{0xff80000000e653bf, 0xffbfa9373fd00000, 0x800000003d1561b2, 0xff791e313fe00000}, true, 0x3701, 0xff80000000e653bf, 0xffbfa9373fd00000},      // subps
	{"f20f5cc1", 0x7a80, [4]uint64{0xffe34db24db049a9, 0x89c7c5850673d, 0x3ff2000000000000, 0x4cb1c1cb9c82d2}, false, 0x7aa0, 0xffe34db24db049a9, 0x89c7c5850673d},           // subsd
	{"0f59c1", 0xb600, [4]uint64{0x80000000ff800000, 0x2d83ce7ec33a4e66, 0x4cf083fc80430727, 0xa5ddef8300e7d460}, true, 0xb602, 0x80000000ff800000, 0x2d83ce7ec33a4e66},      // mulps
	{"660f59c1", 0x7040, [4]uint64{0xfffe29c978d142bb, 0x3ffe000000000000, 0x800ffffffffffffd, 0x3e5fffffffffffff}, false, 0x7060, 0xfffe29c978d142bb, 0x3e6dffffffffffff},   // mulpd
	{"f30f59c1", 0x3e00, [4]uint64{0x7fc5fe1e8160c3a9, 0xffe7c1c5ffadcddb, 0x807ffffe7fa83a15, 0xbeffffff7ffb4667}, true, 0x3e01, 0x7fc5fe1e8160c3a9, 0xffe7c1c5ffadcddb},    // mulss
	{"f20f59c1", 0x3800, [4]uint64{0x7ffaa60d049cf2f2, 0xbffa000000000000, 0x800d6edfb2da1f1d, 0x3c68b27b7bde39}, false, 0x3800, 0x7ffaa60d049cf2f2, 0xbffa000000000000},     // mulsd
	{"0f5ec1", 0xc500, [4]uint64{0x96e1a80b33da6c, 0xb1ffffff80510151, 0xbf1d9c6aff169589, 0x812203ba54f5458f}, true, 0xc532, 0x96e1a80b33da6c, 0xb1ffffff80510151},          // divps
	{"660f5ec1", 0x4a80, [4]uint64{0x1494674c4ca2f7, 0x7c11acee04a472f8, 0x7ff2273f7ac486e5, 0x4aea9bcbe67bb926}, true, 0x4aa1, 0x1494674c4ca2f7, 0x7c11acee04a472f8},        // divpd
	{"f30f5ec1", 0x2680, [4]uint64{0x7ff6aed300000000, 0x26051bff800000, 0x26e9a0000bfcfec, 0xfffa1069ff20035b}, false, 0x2680, 0x7ff6aed300000000, 0x26051bff800000},        // divss
	{"f20f5ec1", 0x6a00, [4]uint64{0x9cf0c3df3830675d, 0x81491aa30fc87cc8, 0xbf9fffffffffffff, 0xffec38a4e245a8a6}, true, 0x6a20, 0x9cf0c3df3830675d, 0x81491aa30fc87cc8},    // divsd
	{"0f51c1", 0x2640, [4]uint64{0x803a1b1f7f263e14, 0xfff2a35200000000, 0x569e7b00799baf, 0xffde17bc}, false, 0x2640, 0x0, 0xffde17bc},                                      // sqrtps
	{"660f51c1", 0x3800, [4]uint64{0xe076fcae8f16b17e, 0x199842304b70f00b, 0x800ffffffffffffe, 0x7ff0000000000000}, true, 0x3801, 0xe076fcae8f16b17e, 0x199842304b70f00b},    // sqrtpd
	{"f30f51c1", 0x1e00, [4]uint64{0x377fffff00000000, 0xff7b94d5, 0x3cffffff803ded89, 0x80ee44fb60526759}, true, 0x1e01, 0x377fffff00000000, 0xff7b94d5},                    // sqrtss
	{"f20f51c1", 0x3100, [4]uint64{0xa7683ce59ee25c63, 0x1b89d1f9e44811, 0xffefd09973fa4d3b, 0x800fffffffffffff}, true, 0x3101, 0xa7683ce59ee25c63, 0x1b89d1f9e44811},        // sqrtsd
	{"0f5dc1", 0x1100, [4]uint64{0x827092467ff552fa, 0x14136987fc93841, 0x7f800000007ffffd, 0xff69a294ffef7e2c}, true, 0x1101, 0x827092467ff552fa, 0x14136987fc93841},        // minps
	{"660f5fc1", 0x880, [4]uint64{0x3ffa000000000000, 0x800315f60a5a91a7, 0x7ffb67a1083bb2ac, 0x7ff0000000000000}, true, 0x883, 0x3ffa000000000000, 0x800315f60a5a91a7},      // maxpd
	{"f20f5dc1", 0xed80, [4]uint64{0xcaed44dfbd38b6cc, 0x801d074094e0c3bf, 0x801148c9af1d0f9a, 0x80028a744b14882b}, false, 0xed80, 0xcaed44dfbd38b6cc, 0x801d074094e0c3bf},   // minsd
	{"f30f5fc1", 0x4300, [4]uint64{0xffd3fe487fc4105e, 0x807ffffdff937e4d, 0x90bc163817fc4f, 0x7fce5841bf900000}, true, 0x4301, 0xffd3fe487fc4105e, 0x807ffffdff937e4d},      // maxss
	{"0fc2c101", 0xa300, [4]uint64{0xff800000027703b3, 0x3f90000000000000, 0x5dda4980efd5e5, 0x3fc00000ff800000}, false, 0xa302, 0xffffffff00000000, 0xffffffff00000000},     // cmpltps
	{"660fc2c102", 0x3580, [4]uint64{0xb7624a727e4a07fb, 0xfff1c8fe4f3879db, 0x345fa5a66f7b2e45, 0x801e2cc2c1885d2b}, false, 0x3581, 0xffffffffffffffff, 0x0},                // cmplepd
	{"f30fc2c100", 0x7500, [4]uint64{0x10fb298b81bba8, 0xff5aa10dbf900000, 0x33fef1ffc73f5f, 0x2d8838d57f79f2d1}, false, 0x7500, 0x10fb2900000000, 0xff5aa10dbf900000},       // cmpeqss
	{"f20fc2c103", 0xc300, [4]uint64{0xffeb74daaef71536, 0x10027815ef336d, 0x10c6900cbb8ca6, 0x640a69284f513142}, false, 0xc300, 0x0, 0x10027815ef336d},                      // cmpunordsd
	{"660f5ac1", 0x2180, [4]uint64{0x8647f8b873343, 0x0, 0xfffe5270bfc7b651, 0x803179e6ff97a003}, true, 0x21b0, 0x8647f8b873343, 0x0},                                        // cvtpd2ps
	{"0f5ac1", 0x6680, [4]uint64{0x801ce6fec1da5213, 0xbc6ceafecb78d540, 0xbeefffffffffffff, 0x7ff0000000000000}, false, 0x6680, 0xffffffffe0000000, 0xbfddffffe0000000},     // cvtps2pd
	{"0f5bc1", 0x63c0, [4]uint64{0x7e8c1332980e4e11, 0x6f42a4e21a05258a, 0xdf2f8077fad3c40a, 0x9f54c0c20c49c362}, true, 0x63e0, 0x7e8c1332980e4e11, 0x6f42a4e21a05258a},      // cvtdq2ps
	{"660f5bc1", 0x6f00, [4]uint64{0x80cf8730, 0xfe92443807ffffe, 0xc4125e9c99e0bf, 0xbfc00000807ffffd}, true, 0x6f20, 0x80cf8730, 0xfe92443807ffffe},                        // cvtps2dq
	{"660fe6c1", 0x1980, [4]uint64{0x7ff0000000000000, 0x801f278e23764cca, 0xfff0000000000000, 0xfff65f12bd5c1635}, false, 0x1981, 0x8000000080000000, 0x0},                  // cvttpd2dq
	{"f20fe6c1", 0x5140, [4]uint64{0x800ffffffffffffe, 0xcfa24f728050762e, 0xfff0000000000000, 0xdef05621776e6096}, true, 0x5141, 0x800ffffffffffffe, 0xcfa24f728050762e},    // cvtpd2dq
	{"f20f5ac1", 0x4fc0, [4]uint64{0xff800000bfc00000, 0xbfe00000377fffff, 0x85f48142ff4e9589, 0x802d64bb7f31ecc3}, true, 0x4ff0, 0xff800000bfc00000, 0xbfe00000377fffff},    // cvtsd2ss
	{"f30f5ac1", 0x6000, [4]uint64{0xfff1eb63e30e2811, 0xffffffffffffe, 0x8010ee0bd34b767c, 0xffe5b845943838c6}, false, 0x6000, 0xc2696ecf80000000, 0xffffffffffffe},         // cvtss2sd
	{"f20f7cc1", 0x3180, [4]uint64{0xea89d525b8c71d7e, 0x36252a7100ba6941, 0x81f019817f401811, 0x48ece214ffd1bbfb}, false, 0x31a0, 0x36252a71ea89d526, 0xffd1bbfb7f401810},   // haddps
	{"660f7dc1", 0xca80, [4]uint64{0x97bcf24326ed5, 0x7fff81f1c158e795, 0x7ff44389431aded9, 0xc0929ac0fadf92dc}, false, 0xca81, 0x7fff81f1c158e795, 0x7ffc4389431aded9},      // hsubpd
	{"f20fd0c1", 0xe00, [4]uint64{0x29b275007ffffe, 0x7f98b6e57fa57eed, 0x7f800000007fffff, 0xd52b28816a0f0e}, true, 0xe03, 0x29b275007ffffe, 0x7f98b6e57fa57eed},            // addsubps
	{"660fd0c1", 0x6280, [4]uint64{0x7ff0000000000000, 0x804ca04e601608d8, 0xc650bb5e69f3e1c4, 0x73ac1f0b70d4a96b}, true, 0x62a0, 0x7ff0000000000000, 0x804ca04e601608d8},    // addsubpd
	{"0f58c1", 0x7e80, [4]uint64{0xfe1d787eff7f04d3, 0x81dffd28ffac05fb, 0xb9ffffff818c295d, 0x8054cb0b80c6b670}, true, 0x7e83, 0xfe1d787eff7f04d3, 0x81dffd28ffac05fb},      // addps
	{"660f58c1", 0x4380, [4]uint64{0x7ff5b1d837ac8631, 0x3ff0000000000000, 0x6dd888bbd986b, 0x7ff570dc232c4d63}, false, 0x4381, 0x7ffdb1d837ac8631, 0x7ffd70dc232c4d63},      // addpd
	{"f30f58c1", 0xe900, [4]uint64{0x3affffff00000000, 0x7fdeab8d81624f7a, 0x23d1d731750b2f, 0x80c37573424606cd}, false, 0xe900, 0x3affffff31750b2f, 0x7fdeab8d81624f7a},     // addss
	{"f20f58c1", 0x3940, [4]uint64{0xbf7fffffffffffff, 0x7ffe81a312f0903c, 0x7ffb09225406aa06, 0x8016994fefaeff3d}, false, 0x3940, 0x7ffb09225406aa06, 0x7ffe81a312f0903c},   // addsd
	{"0f5cc1", 0x7040, [4]uint64{0x7faa5879018d6c36, 0xff8000007ff4aa03, 0x7f8d29893e7fffff, 0x7fffff7fa683b5}, true, 0x7041, 0x7faa5879018d6c36, 0xff8000007ff4aa03},        // subps
	{"f20f5cc1", 0xa80, [4]uint64{0xfffffffffffff, 0xfffffffffffff, 0x34c6bea6c1c7ec9a, 0x8013aa4c29eeef8a}, true, 0xa82, 0xfffffffffffff, 0xfffffffffffff},                  // subsd
	{"0f59c1", 0x6600, [4]uint64{0x800c0ed30007aeed, 0x51edafff800000, 0x80000000ffb7cf39, 0x6c9833007fffff}, true, 0x6603, 0x800c0ed30007aeed, 0x51edafff800000},            // mulps
	{"660f59c1", 0x4b80, [4]uint64{0x3ecd7427a456ec, 0x8012b46f38324f1e, 0xffe30e9907faa863, 0xbff6000000000000}, true, 0x4ba0, 0x3ecd7427a456ec, 0x8012b46f38324f1e},        // mulpd
	{"f30f59c1", 0x3c00, [4]uint64{0x95ff9ea27f800000, 0x7f8000007f800000, 0x7ffffedb94d7ad, 0x8066c5d7bfc00000}, false, 0x3c00, 0x95ff9ea2ff800000, 0x7f8000007f800000},     // mulss
	{"f20f59c1", 0x3580, [4]uint64{0x3ff0000000000000, 0xfffffffffffff, 0x3ff4000000000000, 0x8d02e64c4e516da9}, false, 0x3580, 0x3ff4000000000000, 0xfffffffffffff},         // mulsd
	{"0f5ec1", 0x6240, [4]uint64{0x3fd00000e9dda971, 0x8019bda10056e23b, 0xff800000805e33b7, 0x7f856aad021e4ac5}, true, 0x6245, 0x3fd00000e9dda971, 0x8019bda10056e23b},      // divps
	{"660f5ec1", 0x1680, [4]uint64{0x3f0fffffffffffff, 0x0, 0x7ffadc831220765b, 0x0}, false, 0x1681, 0x7ffadc831220765b, 0xfff8000000000000},                                 // divpd
	{"f30f5ec1", 0xbb00, [4]uint64{0x327fffffff62b4c7, 0x820f3507807ffffd, 0x17e66bbdffffff, 0x7f054b0100000000}, true, 0xbb28, 0x327fffffff62b4c7, 0x820f3507807ffffd},      // divss
	{"f20f5ec1", 0xe740, [4]uint64{0x7fe69877a4b47bce, 0x800fffffffffffff, 0x6c452ba6143faab2, 0x1a631949960328}, true, 0xe760, 0x7fe69877a4b47bce, 0x800fffffffffffff},      // divsd
	{"0f51c1", 0x7080, [4]uint64{0xb15d684080000000, 0x807ffffd35dabc5e, 0x33b1e160ff800000, 0x80ef564580b9d338}, false, 0x70a1, 0x3996e499ffc00000, 0xffc00000ffc00000},     // sqrtps
	{"660f51c1", 0x8440, [4]uint64{0x800fffffffffffff, 0xfff180010024b3c5, 0x18168f7cc3e3ef, 0xbebfffffffffffff}, true, 0x8441, 0x800fffffffffffff, 0xfff180010024b3c5},      // sqrtpd
	{"f30f51c1", 0x7480, [4]uint64{0x3e9ab00434ffffff, 0x55b9b1007ffffd, 0x9695480e00c16a62, 0xff8000007fc07add}, false, 0x74a0, 0x3e9ab004201d581c, 0x55b9b1007ffffd},       // sqrtss
	{"f20f51c1", 0x1580, [4]uint64{0x0, 0x801f651f44158170, 0x0, 0xbb2b43f4fd8842c7}, false, 0x1580, 0x0, 0x801f651f44158170},                                                // sqrtsd
	{"0f5dc1", 0x78c0, [4]uint64{0x7ffffd1da88919, 0x8016b7a97f800000, 0xb4ffffff0016b593, 0x5eb1471f7f800000}, false, 0x78c0, 0xb4ffffff00000000, 0x800000007f800000},       // minps
	{"660f5fc1", 0x8380, [4]uint64{0x7fe740927d81a60f, 0x3e9fffffffffffff, 0x7fee03062a99ceb3, 0xfff0000000000000}, false, 0x8380, 0x7fee03062a99ceb3, 0x3e9fffffffffffff},   // maxpd
	{"f20f5dc1", 0x6a80, [4]uint64{0x8a55159ed84c3, 0x800c0e892a436a5f, 0xb23aebb49f044570, 0x3ff4000000000000}, true, 0x6a82, 0x8a55159ed84c3, 0x800c0e892a436a5f},          // minsd
	{"f30f5fc1", 0x9500, [4]uint64{0x7f80000050d2b390, 0xff69c0730003c4f5, 0x4e4597c390a111, 0xb87fffffffdd500b}, false, 0x9500, 0x7f80000050d2b390, 0xff69c0730003c4f5},     // maxss
	{"0fc2c101", 0xbb80, [4]uint64{0x7f8000003154f540, 0x4becfbb1ffffff, 0x7f668c247f8931a5, 0x31ffffff7fe5bc5c}, false, 0xbb83, 0x0, 0xffffffff00000000},                    // cmpltps
	{"660fc2c102", 0x7780, [4]uint64{0x0, 0x2e1444209d7f70, 0x7feb466a9f8c4aa6, 0x7fff9483254cfe4d}, false, 0x7781, 0xffffffffffffffff, 0x0},                                 // cmplepd
	{"f30fc2c100", 0xc640, [4]uint64{0x3e421da768b45854, 0x8a19752d5cc2ef, 0x7fea44e0ff800000, 0x7f34fbf0}, false, 0xc640, 0x3e421da700000000, 0x8a19752d5cc2ef},             // cmpeqss
	{"f20fc2c103", 0xc280, [4]uint64{0x3e4fffffffffffff, 0xffff9535860187ee, 0xfff0000000000000, 0x4a24df4a0653f38d}, false, 0xc280, 0x0, 0xffff9535860187ee},                // cmpunordsd
	{"660f5ac1", 0x4800, [4]uint64{0x8000000000000000, 0x80023b3f65a417ef, 0xfff277a84603c669, 0xfb85fc2694a3f}, true, 0x4803, 0x8000000000000000, 0x80023b3f65a417ef},       // cvtpd2ps
	{"0f5ac1", 0x7c80, [4]uint64{0x7fec8b31d2c60eb4, 0xfff0000000000000, 0x8017d19ba01509c7, 0x7ff0000000000000}, true, 0x7c82, 0x7fec8b31d2c60eb4, 0xfff0000000000000},      // cvtps2pd
	{"0f5bc1", 0xa00, [4]uint64{0x14b8ae0965664017, 0x9b58e3cce1b30058, 0xae1938b9559e7ebb, 0x703f650db359b024}, true, 0xa20, 0x14b8ae0965664017, 0x9b58e3cce1b30058},        // cvtdq2ps
	{"660f5bc1", 0x6280, [4]uint64{0x3effffff0d39f760, 0x464b80dcd0a0f3b2, 0xfb07d498ffc48e79, 0x80000000bff00000}, true, 0x62a1, 0x3effffff0d39f760, 0x464b80dcd0a0f3b2},    // cvtps2dq
	{"660fe6c1", 0x9600, [4]uint64{0xffffffffffffd, 0xc4a283b7efd83, 0x417c888459862eb, 0xa4ee092c4176863c}, false, 0x9620, 0x0, 0x0},                                        // cvttpd2dq
	{"f20fe6c1", 0x6480, [4]uint64{0xbe0893d48638b8a3, 0xa2d4d4046e2969ef, 0x126f978c6ec85e, 0x8000000000000000}, true, 0x64a0, 0xbe0893d48638b8a3, 0xa2d4d4046e2969ef},      // cvtpd2dq
	{"f20f5ac1", 0xbd00, [4]uint64{0x80a1d29180d68519, 0x377fffff007ffffe, 0x5b4b737f6c900f, 0xffcd5f253fd00000}, false, 0xbd30, 0x80a1d29100000000, 0x377fffff007ffffe},     // cvtsd2ss
	{"f30f5ac1", 0x6900, [4]uint64{0xffe3be15140de117, 0x8000000000000000, 0x7ff33443bb221a8b, 0x4e6f3927793dca3b}, false, 0x6900, 0xbf64435160000000, 0x8000000000000000},   // cvtss2sd
	{"f20f7cc1", 0x1680, [4]uint64{0x81f6342bffbcbb9d, 0x7fffff, 0x80348207c4c15752, 0xfbb8a89333ffffff}, true, 0x1683, 0x81f6342bffbcbb9d, 0x7fffff},                        // haddps
	{"660f7dc1", 0x6a00, [4]uint64{0x8020c49258b68354, 0x7ffcdcefd0b1a41b, 0xbff6000000000000, 0xbffa000000000000}, false, 0x6a00, 0x7ffcdcefd0b1a41b, 0x3fd0000000000000},   // hsubpd
	{"f20fd0c1", 0x1200, [4]uint64{0x15724fb80000000, 0x8c6eefb77f800000, 0x7fb86dd3bfb00000, 0x7ffffe00aaffa1}, true, 0x1203, 0x15724fb80000000, 0x8c6eefb77f800000},        // addsubps
	{"660fd0c1", 0x2b80, [4]uint64{0x8000000000000000, 0x360ddcad9482af32, 0x2a976c3267c282, 0x3ff8000000000000}, true, 0x2ba0, 0x8000000000000000, 0x360ddcad9482af32},      // addsubpd
	{"0f58c1", 0x3800, [4]uint64{0x16634b5397fffff, 0x14c839bf800000, 0x80546bcfff5cd471, 0xffd9edf480369fbb}, true, 0x3802, 0x16634b5397fffff, 0x14c839bf800000},            // addps
	{"660f58c1", 0x2800, [4]uint64{0x8a469aeaf62d71e1, 0x2b4bfcbfae2909a9, 0xfff0000000000000, 0x3ff2000000000000}, true, 0x2820, 0x8a469aeaf62d71e1, 0x2b4bfcbfae2909a9},    // addpd
	{"f30f58c1", 0x2d00, [4]uint64{0x806127bdffefa165, 0xff238ca17fc9bf02, 0x7fffffe30ce84b, 0xe188e0ba7fffff}, false, 0x2d00, 0x806127bdffefa165, 0xff238ca17fc9bf02},       // addss
	{"f20f58c1", 0x3180, [4]uint64{0x1b78fea05efdac, 0x7f629a1297d427e5, 0x14922c0cadb0bc83, 0x7ffa8cfbe2182dce}, false, 0x31a0, 0x14922c0cadb0bc83, 0x7f629a1297d427e5},     // addsd
	{"0f5cc1", 0xab00, [4]uint64{0x2e98efb7fdb66a6, 0x807ffffedc825298, 0xdbedf31e7f800000, 0x1aa63c2cc1853f6}, true, 0xab22, 0x2e98efb7fdb66a6, 0x807ffffedc825298},         // subps
	{"f20f5cc1", 0xf580, [4]uint64{0x3f4fffffffffffff, 0x7fe4197f4332d8cd, 0x78af713f98b09fd5, 0x7ffb86253cdf0f4d}, false, 0xf5a0, 0xf8af713f98b09fd4, 0x7fe4197f4332d8cd},   // subsd
	{"0f59c1", 0x3d80, [4]uint64{0xff99e243007fffff, 0xbfe000000103f4ca, 0x7fca5b793f800000, 0xbfc000007f8fe719}, false, 0x3d83, 0xffd9e243007fffff, 0x402800007fcfe719},     // mulps
	{"660f59c1", 0x2a00, [4]uint64{0x7ff5607225ab6889, 0x7ff0000000000000, 0x7ff3c2ddf43d6583, 0x3fafffffffffffff}, true, 0x2a01, 0x7ff5607225ab6889, 0x7ff0000000000000},    // mulpd
	{"f30f59c1", 0x3100, [4]uint64{0x803195b500942c2b, 0x812a4053807ffffe, 0x7f6af4860008d417, 0x81c6bbc7}, true, 0x3132, 0x803195b500942c2b, 0x812a4053807ffffe},            // mulss
	{"f20f59c1", 0x6a00, [4]uint64{0x8013c29ebf94fbd6, 0xfff485e4cc093cdb, 0xbff8000000000000, 0x23e30ed3f037cd}, false, 0x6a00, 0x1da3ee1f5f79c1, 0xfff485e4cc093cdb},       // mulsd
	{"0f5ec1", 0x3d80, [4]uint64{0xff8000007f800000, 0x97ac6a3380f16633, 0x1f5586280841290, 0x95d7d561ff2fcc3f}, false, 0x3db0, 0xff800000ff800000, 0x414c804a00000000},      // divps
	{"660f5ec1", 0x3800, [4]uint64{0xffe4762e283edd0a, 0x801d8bc062a59529, 0x7ff9227608e65480, 0x134379079216ec}, false, 0x3820, 0x7ff9227608e65480, 0xbff88a53cbd25853},     // divpd
	{"f30f5ec1", 0x1a80, [4]uint64{0xbff000007fd181be, 0x7f30ea3d80000000, 0x808bd328ffcb7392, 0x818e34f03e7fffff}, false, 0x1a80, 0xbff000007fd181be, 0x7f30ea3d80000000},   // divss
	{"f20f5ec1", 0x7bc0, [4]uint64{0x3f8fffffffffffff, 0xfff25d525740d453, 0x3a29496fceeec03d, 0xffff16cb64cd5a45}, false, 0x7be0, 0x45543f67304da120, 0xfff25d525740d453},   // divsd
	{"0f51c1", 0xcb80, [4]uint64{0x205dfd100d3520f, 0xcf6d8cb27fffff, 0xbfc00000ffcb2240, 0xb9ffffffffd9ed83}, false, 0xcb81, 0xffc00000ffcb2240, 0xffc00000ffd9ed83},        // sqrtps
	{"660f51c1", 0x1580, [4]uint64{0xffe60c64f3d7d6e4, 0xffffffffffffe, 0x3ebfffffffffffff, 0xd07258634a0f0769}, false, 0x15a1, 0x3f56a09e667f3bcc, 0xfff8000000000000},      // sqrtpd
	{"f30f51c1", 0x5400, [4]uint64{0x5a369abc3ff00000, 0xbfc000003fb00000, 0x807ffffd7f347f1e, 0xff42e0afff5524b0}, false, 0x5420, 0x5a369abc5f56f55b, 0xbfc000003fb00000},   // sqrtss
	{"f20f51c1", 0x7680, [4]uint64{0x800fffffffffffff, 0xffe57d4db0a5cdd5, 0x804827cfd2bba368, 0x801b7eb4fd25461b}, false, 0x7681, 0xfff8000000000000, 0xffe57d4db0a5cdd5},   // sqrtsd
	{"0f5dc1", 0x4f80, [4]uint64{0x81608e3500ade142, 0xff6a976979ba9d25, 0x8046b9450097cb49, 0x5e4ec14c807fffff}, false, 0x4f82, 0x81608e350097cb49, 0xff6a9769807fffff},     // minps
	{"660f5fc1", 0x640, [4]uint64{0xa1dc31c8a96c1f1e, 0x8030158da4f923ff, 0xfffdaffe3ba0f51d, 0xffffffffffffe}, true, 0x641, 0xa1dc31c8a96c1f1e, 0x8030158da4f923ff},         // maxpd
	{"f20f5dc1", 0xb080, [4]uint64{0x7ff0000000000000, 0x8000000000000000, 0x3effffffffffffff, 0xfffb79ae9e2bbf70}, false, 0xb080, 0x3effffffffffffff, 0x8000000000000000},   // minsd
	{"f30f5fc1", 0x3d00, [4]uint64{0x7fe590283a7fffff, 0x20782bf37429d00, 0x801025c5ffbcb0f9, 0x3fa000007fe1b650}, true, 0x3d01, 0x7fe590283a7fffff, 0x20782bf37429d00},      // maxss
	{"0fc2c101", 0x9dc0, [4]uint64{0xffe781f680bd4579, 0x1cf7475ca5a11de2, 0x7f8000007f800000, 0x3f6a5e2200adc230}, false, 0x9dc1, 0xffffffff, 0xffffffffffffffff},           // cmpltps
	{"660fc2c102", 0xf600, [4]uint64{0xbe8fffffffffffff, 0xc8a08c5b12302c51, 0xe04cfb4d61c037ca, 0x0}, false, 0xf600, 0x0, 0xffffffffffffffff},                               // cmplepd
	{"f30fc2c100", 0x5900, [4]uint64{0x7fa0dafbb59c2dd4, 0xff8b7fd5807ffffe, 0x7f21854d00000000, 0x8176683a80000000}, false, 0x5900, 0x7fa0dafb00000000, 0xff8b7fd5807ffffe}, // cmpeqss
	{"f20fc2c103", 0xa580, [4]uint64{0x1d95cec9a95019, 0x8000432423b84a51, 0xfff0000000000000, 0x5110d9078828efcf}, false, 0xa580, 0x0, 0x8000432423b84a51},                  // cmpunordsd
	{"660f5ac1", 0x1180, [4]uint64{0x46876d4b166573f2, 0xfff0000000000000, 0xfff0000000000000, 0xfff84322b5f64608}, false, 0x1180, 0xffc21915ff800000, 0x0},                  // cvtpd2ps
	{"0f5ac1", 0x3300, [4]uint64{0x342441045e8125, 0xfffc5263b4113088, 0x627ccbab5dfe1501, 0xffffffffffffd}, false, 0x3300, 0x43bfc2a020000000, 0x444f997560000000},          // cvtps2pd
	{"0f5bc1", 0x3380, [4]uint64{0x6fa6b3e0c26ea25d, 0xf828eeb84a55836c, 0x4bb1a3f3fe28fd2d, 0x8c2ed3886f73d137}, false, 0x33a0, 0x4e976347cbeb816a, 0xcee7a2594edee7a2},     // cvtdq2ps
	{"660f5bc1", 0xab80, [4]uint64{0x11a71a1aff43dde7, 0xff800000007ffffe, 0x7fc01549007fffff, 0x3d7fffff00291043}, true, 0xaba1, 0x11a71a1aff43dde7, 0xff800000007ffffe},    // cvtps2dq
	{"660fe6c1", 0x7a80, [4]uint64{0x7ffd2cb5c5167b5e, 0xfffffffffffff, 0x3bb0b1a11a8dfc, 0x96ac9b560fd0461c}, false, 0x7aa0, 0x0, 0x0},                                      // cvttpd2dq
	{"f20fe6c1", 0x7180, [4]uint64{0x800fffffffffffff, 0x7fe5cffa1b9cd19b, 0x801036301be427dc, 0x0}, false, 0x71a0, 0x0, 0x0},                                                // cvtpd2dq
	{"f20f5ac1", 0xfd80, [4]uint64{0x7fb79f3b01443a27, 0x7f94736754e7f446, 0x3ecc89e600712845, 0xffee518bbfc00000}, false, 0xfda0, 0x7fb79f3b36644f30, 0x7f94736754e7f446},   // cvtsd2ss
	{"f30f5ac1", 0xc000, [4]uint64{0x7ff0000000000000, 0x7ff77b0b0fd1f801, 0xb383323eeaa38306, 0x7ff0000000000000}, false, 0xc000, 0xc5547060c0000000, 0x7ff77b0b0fd1f801},   // cvtss2sd
	{"f20f7cc1", 0x63c0, [4]uint64{0x7ffffdffd1f1f7, 0xffca1a4ef17fd937, 0xb97fffff, 0x3ff0000062ada210}, true, 0x63e0, 0x7ffffdffd1f1f7, 0xffca1a4ef17fd937},                // haddps
	{"660f7dc1", 0xc600, [4]uint64{0x393bcb04e213d889, 0x8000000000000000, 0x80140b4a2fe9a9c1, 0xfff0000000000000}, false, 0xc600, 0x393bcb04e213d889, 0x7ff0000000000000},   // hsubpd
	{"f20fd0c1", 0x7700, [4]uint64{0x80d31b0200018895, 0x7f8000003f900000, 0x3fb00000a7188dd7, 0x68cbefb2ff650600}, false, 0x7722, 0x3fafffff27188dd7, 0x7f8000007f650600},   // addsubps
	{"660fd0c1", 0xec0, [4]uint64{0xbff0000000000000, 0x8010340f09da9a41, 0x3ff6000000000000, 0x7ff4b8db667856b1}, false, 0xec1, 0xc003000000000000, 0x7ffcb8db667856b1},     // addsubpd
	{"0f58c1", 0xa4c0, [4]uint64{0x7fb978a981843e11, 0x7fce502bff21610f, 0x3cffffff66c8dc8b, 0x7fa5dae5ff98e959}, true, 0xa4e1, 0x7fb978a981843e11, 0x7fce502bff21610f},      // addps
	{"660f58c1", 0x9980, [4]uint64{0x951962501c2151a6, 0x6fbdf3981d098fde, 0x3f483716b5058aa3, 0x7ff845e1a6400029}, false, 0x99a0, 0x3f483716b5058aa3, 0x7ff845e1a6400029},   // addpd
	{"f30f58c1", 0x3880, [4]uint64{0x2b707882, 0xbfb00000bfc00000, 0x80f5483680000000, 0x1474ee482074ac0}, false, 0x3880, 0x2b707882, 0xbfb00000bfc00000},                    // addss
	{"f20f58c1", 0x4680, [4]uint64{0x3ff8000000000000, 0x644e2cf12fc31736, 0x3686b6383f26cb25, 0x80050e08bc2e0bdf}, true, 0x46a0, 0x3ff8000000000000, 0x644e2cf12fc31736},    // addsd
	{"0f5cc1", 0x5980, [4]uint64{0x8000000000262d77, 0x3b7fffff229d442d, 0x1f7c8e11007ffffe, 0x7f8e56177f800000}, false, 0x5983, 0x9f7c8e118059d287, 0x7fce5617ff800000},     // subps
	{"f20f5cc1", 0xdb80, [4]uint64{0x3ff0000000000000, 0x3dff641c95b34a03, 0xfff0000000000000, 0xffff0d6be7e42df5}, false, 0xdb80, 0x7ff0000000000000, 0x3dff641c95b34a03},   // subsd
	{"0f59c1", 0x7580, [4]uint64{0xf75c033e803b7a87, 0x940da7fd00719f, 0xffb5bd7bbfa00000, 0x70bbd1567f800000}, true, 0x75b3, 0xf75c033e803b7a87, 0x940da7fd00719f},          // mulps
	{"660f59c1", 0x1600, [4]uint64{0xd42c164c07491a10, 0x8006befd43b8dd21, 0xffea41815c12e6c9, 0x800ffffffffffffd}, true, 0x1602, 0xd42c164c07491a10, 0x8006befd43b8dd21},    // mulpd
	{"f30f59c1", 0xef80, [4]uint64{0x8069ac0d52455ee8, 0xbd7fffff007fffff, 0xa58f1fff83e779, 0x7fe9f600804bf437}, false, 0xef81, 0x8069ac0dffc3e779, 0xbd7fffff007fffff},     // mulss
	{"f20f59c1", 0x2400, [4]uint64{0xffe2ebda6c665fe6, 0x800d2376968c4c4b, 0x7fe27dfb35b1e522, 0x3c1cf47ee8fe3}, true, 0x2428, 0xffe2ebda6c665fe6, 0x800d2376968c4c4b},       // mulsd
	{"0f5ec1", 0x100, [4]uint64{0xff0eb909009065a5, 0x27ebbf003ed14f, 0xbf7fffff007464b1, 0x80385a9b}, true, 0x106, 0xff0eb909009065a5, 0x27ebbf003ed14f},                    // divps
	{"660f5ec1", 0x7e00, [4]uint64{0xfff0000000000000, 0xbcff8aee4040fb28, 0xffffffffffffd, 0x3fbfffffffffffff}, true, 0x7e02, 0xfff0000000000000, 0xbcff8aee4040fb28},       // divpd
	{"f30f5ec1", 0x7e00, [4]uint64{0x8236704d801399f5, 0x80d6d563ff1446e1, 0xa500314d, 0x8095b18dbfc00000}, true, 0x7e02, 0x8236704d801399f5, 0x80d6d563ff1446e1},            // divss
	{"f20f5ec1", 0xa480, [4]uint64{0xaed8f09026dca6cf, 0x43e014c82ee72800, 0xffe96f5fc2f49c30, 0xfa61fbc2e0293}, true, 0xa4b0, 0xaed8f09026dca6cf, 0x43e014c82ee72800},       // divsd
	{"0f51c1", 0x7c00, [4]uint64{0xf8664000bacc9b, 0xab27e43f7f33d398, 0x172c0b340147d6a7, 0xcdf5425a01aa57f7}, true, 0x7c01, 0xf8664000bacc9b, 0xab27e43f7f33d398},          // sqrtps
	{"660f51c1", 0xf40, [4]uint64{0x125c178f1c7491, 0xffe14f6ebb4e3229, 0x801ca18289bbb70a, 0x3030053333190caf}, true, 0xf41, 0x125c178f1c7491, 0xffe14f6ebb4e3229},          // sqrtpd
	{"f30f51c1", 0x7800, [4]uint64{0x7fb1ecd17f800000, 0xffd4f4127f6e26af, 0x7fb78323bfd00000, 0xff682e2c00000000}, true, 0x7801, 0x7fb1ecd17f800000, 0xffd4f4127f6e26af},    // sqrtss
	{"f20f51c1", 0x3480, [4]uint64{0x64de363697833363, 0x1a5fec908e2ed, 0x7ffacbae3c036701, 0x800ffffffffffffe}, false, 0x3480, 0x7ffacbae3c036701, 0x1a5fec908e2ed},         // sqrtsd
	{"0f5dc1", 0x1ac0, [4]uint64{0xbf800000bf900000, 0xf5cbffc3ff800000, 0x3cffffffb87fffff, 0x7fa3a17b7622406f}, false, 0x1ac1, 0xbf800000bf900000, 0x7fa3a17bff800000},     // minps
	{"660f5fc1", 0x2000, [4]uint64{0x623c6b9262903ac7, 0xfff0000000000000, 0x324d0cb38aec7b62, 0x7cfe9d67fa9f44e3}, false, 0x2000, 0x623c6b9262903ac7, 0x7cfe9d67fa9f44e3},   // maxpd
	{"f20f5dc1", 0x7380, [4]uint64{0x800ffffffffffffd, 0x8009eb63f4c7aaeb, 0x800ad4cc3845d069, 0x4b85f6547402337a}, false, 0x7382, 0x800ffffffffffffd, 0x8009eb63f4c7aaeb},   // minsd
	{"f30f5fc1", 0x2680, [4]uint64{0x803c9a23b8ffffff, 0xff8000003f900000, 0x2a26f2057f93acd3, 0xb7ffffff7ca7a9f5}, false, 0x2681, 0x803c9a237f93acd3, 0xff8000003f900000},   // maxss
	{"0fc2c101", 0x6a00, [4]uint64{0x7f807ff580790fe1, 0x819829fcff800000, 0x81049b463cbe8016, 0xff2764208a3066eb}, true, 0x6a03, 0x7f807ff580790fe1, 0x819829fcff800000},    // cmpltps
	{"660fc2c102", 0xf540, [4]uint64{0xa0a6a2807f0788e5, 0x8004cca64ad30fd5, 0xbeefffffffffffff, 0xfffffffffffff}, false, 0xf540, 0x0, 0xffffffffffffffff},                   // cmplepd
	{"f30fc2c100", 0x280, [4]uint64{0x3b3d403fff44c944, 0x7fc70742bfe00000, 0xbffa748080775631, 0xff80000080000000}, true, 0x282, 0x3b3d403fff44c944, 0x7fc70742bfe00000},    // cmpeqss
	{"f20fc2c103", 0xc00, [4]uint64{0x380169cbf02610, 0x62b63ffe373356c0, 0xfff0000000000000, 0x7ff0000000000000}, false, 0xc00, 0x0, 0x62b63ffe373356c0},                    // cmpunordsd
	{"660f5ac1", 0xb280, [4]uint64{0xfffffffffffff, 0x7fecb09aad82b859, 0xa182a44a91027, 0xfffffffffffff}, true, 0xb282, 0xfffffffffffff, 0x7fecb09aad82b859},                // cvtpd2ps
	{"0f5ac1", 0xab00, [4]uint64{0xfffffffffffff, 0x7fff079753dd586b, 0x6df76ced5abfd33e, 0x3ffc000000000000}, false, 0xab00, 0x4357fa67c0000000, 0x45beed9da0000000},        // cvtps2pd
	{"0f5bc1", 0x7900, [4]uint64{0xeb3cc96bf4e19935, 0x8526a836166258d3, 0x270ca0514414539d, 0x55c05ff254c4513}, false, 0x7920, 0x4e1c32814e8828a7, 0x4cab80bf4e153114},      // cvtdq2ps
	{"660f5bc1", 0xfd00, [4]uint64{0x7f800000cdabd423, 0xbf80000000000000, 0x7f8000007f800000, 0x7f82932dff800000}, true, 0xfd01, 0x7f800000cdabd423, 0xbf80000000000000},    // cvtps2dq
	{"660fe6c1", 0x5300, [4]uint64{0x800032e775bdac89, 0x87da76670d14f, 0xbfafffffffffffff, 0x21cb3b085e52eb}, false, 0x5320, 0x0, 0x0},                                      // cvttpd2dq
	{"f20fe6c1", 0xde00, [4]uint64{0xbff2000000000000, 0x3fefffffffffffff, 0xb5d0a70ef8ce1905, 0xc719c519b024010f}, true, 0xde01, 0xbff2000000000000, 0x3fefffffffffffff},    // cvtpd2dq
	{"f20f5ac1", 0xe80, [4]uint64{0x81023b4f3f900000, 0xdd16a1, 0xb3e7116780efcbc9, 0xdb19ec2aaf7b64}, true, 0xeb0, 0x81023b4f3f900000, 0xdd16a1},                            // cvtsd2ss
	{"f30f5ac1", 0x8740, [4]uint64{0x1358d8f5cb32b9, 0xa6f1981d796bd6a, 0x802e8099f6b72797, 0xfff0000000000000}, false, 0x8740, 0xc6d6e4f2e0000000, 0xa6f1981d796bd6a},       // cvtss2sd
	{"f20f7cc1", 0xb8c0, [4]uint64{0x80d5e3a7955fb294, 0xff800000513e1bc1, 0x37013a2b7f5021a7, 0x80a64500007fffff}, false, 0xb8e0, 0xff800000955fb295, 0x80a645007f5021a7},   // haddps
	{"660f7dc1", 0xec80, [4]uint64{0xbe5fffffffffffff, 0x801f7a70303440d0, 0x3f4fffffffffffff, 0x801004a5a32d25e8}, true, 0xeca0, 0xbe5fffffffffffff, 0x801f7a70303440d0},    // hsubpd
	{"f20fd0c1", 0x5680, [4]uint64{0x800000007fa2807b, 0xff6f32408132ae20, 0xb727d7e4b91aa, 0x80a918ce02261a0c}, true, 0x5683, 0x800000007fa2807b, 0xff6f32408132ae20},       // addsubps
	{"660fd0c1", 0x3500, [4]uint64{0x8000000000000000, 0x3ff6000000000000, 0x1f3612e05b683a, 0x2979ae5f295a135a}, false, 0x3520, 0x801f3612e05b683a, 0x3ff6000000000000},     // addsubpd
	{"0f58c1", 0x1140, [4]uint64{0x5e987318a4e7ea71, 0xb37fffffffe1629c, 0x7d153a24, 0x600cffff800000}, false, 0x1160, 0x5e9873187d153a24, 0xb37fffffffe1629c},               // addps
	{"660f58c1", 0xe680, [4]uint64{0x0, 0x7fffbf459d67edb7, 0x7feea6f2a6c2e8a4, 0xfff276b37f4715fd}, false, 0xe681, 0x7feea6f2a6c2e8a4, 0x7fffbf459d67edb7},                  // addpd
	{"f30f58c1", 0x880, [4]uint64{0x7f6be8ec7feceba0, 0x3fa00000814bd55b, 0xffcb84b0ff196d7e, 0x8483277bab0d70}, false, 0x880, 0x7f6be8ec7feceba0, 0x3fa00000814bd55b},       // addss
	{"f20f58c1", 0x54c0, [4]uint64{0x8026ba3d77b52a5e, 0x7ffda28d23e7f6b9, 0xfff0000000000000, 0x7ffb58445c8d167e}, false, 0x54c0, 0xfff0000000000000, 0x7ffda28d23e7f6b9},   // addsd
	{"0f5cc1", 0x6580, [4]uint64{0x7f800000ff800000, 0x80fff809007ffffd, 0x82752f61812ec095, 0x811d8d49be7fffff}, true, 0x65b2, 0x7f800000ff800000, 0x80fff809007ffffd},      // subps
	{"f20f5cc1", 0x1e40, [4]uint64{0x7ffa1365a815d6e4, 0xfffd87c67df8797c, 0xfffdc80e3300282a, 0x1fe635939ec55b}, false, 0x1e40, 0x7ffa1365a815d6e4, 0xfffd87c67df8797c},     // subsd
	{"0f59c1", 0x3000, [4]uint64{0xff800000b3ffffff, 0x7ffffe007ffffd, 0xffc93ca280ef6dfa, 0x7f912b41ffadb417}, true, 0x3001, 0xff800000b3ffffff, 0x7ffffe007ffffd},          // mulps
	{"660f59c1", 0x5280, [4]uint64{0x2a85c8767b6735c0, 0xffe942d1f694d192, 0x199b414858874f, 0x800ffffffffffffe}, true, 0x5282, 0x2a85c8767b6735c0, 0xffe942d1f694d192},      // mulpd
	{"f30f59c1", 0x6140, [4]uint64{0x3fc00000ff800000, 0x65eb2d5c, 0x807ffffd7f6fcb02, 0x7fffff8015ec01}, false, 0x6140, 0x3fc00000ff800000, 0x65eb2d5c},                     // mulss
	{"f20f59c1", 0x20c0, [4]uint64{0x801ce5673dd8e6f3, 0x7e922d7b340de54b, 0xee2410062318a6d8, 0x3f2fffffffffffff}, true, 0x20e0, 0x801ce5673dd8e6f3, 0x7e922d7b340de54b},    // mulsd
	{"0f5ec1", 0x7a40, [4]uint64{0x6ccc51b80b164f, 0x7f8000000204c1fb, 0xff1e1296800a5eef, 0x7ffffe00000000}, false, 0x7a44, 0x800000007f800000, 0x7f8000007f800000},         // divps
	{"660f5ec1", 0x5e00, [4]uint64{0x7fffba89bee60274, 0x801d5024d5727658, 0xfff9dc1efc21c0b0, 0x7ffc5f3ff58e4a24}, false, 0x5e00, 0x7fffba89bee60274, 0x7ffc5f3ff58e4a24},   // divpd
	{"f30f5ec1", 0x40, [4]uint64{0xff3e63ec00000000, 0x3f18709b00ba4db9, 0x70fae7217f800000, 0x80a3b231385afdbe}, false, 0x40, 0xff3e63ec00000000, 0x3f18709b00ba4db9},       // divss
	{"f20f5ec1", 0x7c40, [4]uint64{0x3fcf551a6877d4, 0xffffffffffffe, 0xfff5b9081a70d817, 0xbff6000000000000}, true, 0x7c41, 0x3fcf551a6877d4, 0xffffffffffffe},              // divsd
	{"0f51c1", 0x2f00, [4]uint64{0xfffea7777fb02887, 0xe50da8d1807ffffe, 0xbd7fffff80d5852f, 0x800000002b7aeca8}, true, 0x2f01, 0xfffea7777fb02887, 0xe50da8d1807ffffe},      // sqrtps
	{"660f51c1", 0x7f80, [4]uint64{0xeb1333dbcead2db3, 0xfff4b1ac110d80cf, 0x32d4e1ce0e9958c5, 0x1e4ef79ca6dfc3}, false, 0x7fa0, 0x3962475c594c5ba6, 0x20060570a40e4e5a},     // sqrtpd
	{"f30f51c1", 0xb080, [4]uint64{0x317fffff00eea60a, 0x807ffffdbb7fffff, 0xabffe73c7ed5d858, 0x31ffffff7f81c31d}, false, 0xb0a0, 0x317fffff5f257204, 0x807ffffdbb7fffff},   // sqrtss
	{"f20f51c1", 0x7480, [4]uint64{0x0, 0x391b0ee09f32bd, 0x3ffc000000000000, 0xafdcc86565061eef}, false, 0x74a0, 0x3ff52a7fa9d2f8e9, 0x391b0ee09f32bd},                      // sqrtsd
	{"0f5dc1", 0x2e40, [4]uint64{0xffee1bfd7f800000, 0xff80000027c3d297, 0x3a881ad3806ef2ad, 0x3ff00000000c6a71}, true, 0x2e41, 0xffee1bfd7f800000, 0xff80000027c3d297},      // minps
	{"660f5fc1", 0x6780, [4]uint64{0x7ffa9a1963303b16, 0x7ffc65a309a4da2f, 0x8004e7f2d1b68617, 0x3ffc000000000000}, false, 0x6781, 0x8004e7f2d1b68617, 0x3ffc000000000000},   // maxpd
	{"f20f5dc1", 0x38c0, [4]uint64{0xfff0000000000000, 0x7fea3677f8d18b11, 0x7ff8213d47777ec4, 0xfffa4f744c23be80}, false, 0x38c1, 0x7ff8213d47777ec4, 0x7fea3677f8d18b11},   // minsd
	{"f30f5fc1", 0x9780, [4]uint64{0x77e769ec807fffff, 0xffd36a4100a71206, 0x81f24ecc81f989f6, 0xbe14847346550cdd}, false, 0x9782, 0x77e769ec807fffff, 0xffd36a4100a71206},   // maxss
	{"0fc2c101", 0x980, [4]uint64{0x7f800000ff0b1c75, 0x809b97e57dff5ffa, 0x33c28d437fc2fd5c, 0x8047cf1b7eddebcd}, false, 0x983, 0x0, 0xffffffffffffffff},                    // cmpltps
	{"660fc2c102", 0x3500, [4]uint64{0xbff8000000000000, 0xebbec7baf4deeef6, 0xb4c902f1a29f350f, 0xfff0000000000000}, false, 0x3500, 0xffffffffffffffff, 0x0},                // cmplepd
	{"f30fc2c100", 0xa080, [4]uint64{0x807fffff007fffff, 0x7f1d013e80d8cad8, 0x2e09877f800000, 0x7f3d8a9b80a4a06c}, true, 0xa082, 0x807fffff007fffff, 0x7f1d013e80d8cad8},    // cmpeqss
	{"f20fc2c103", 0x4940, [4]uint64{0x7ff8806290718f73, 0x800cd09f2cf17f77, 0xbe7fffffffffffff, 0xe557bf0920f859dc}, false, 0x4940, 0xffffffffffffffff, 0x800cd09f2cf17f77}, // cmpunordsd
	{"660f5ac1", 0x400, [4]uint64{0xffe7962f424d7d6e, 0x801041bbcfaad556, 0x7ff675de0ef19727, 0x3e1ea78ee85d0799}, true, 0x401, 0xffe7962f424d7d6e, 0x801041bbcfaad556},      // cvtpd2ps
	{"0f5ac1", 0x4100, [4]uint64{0xfb37400f908c7c3d, 0x7ffeb1fcfb5b4d06, 0x7ffbb3eded138d23, 0x6f74e83e5192b6dd}, false, 0x4100, 0xc5a271a460000000, 0x7fff767da0000000},     // cvtps2pd
	{"0f5bc1", 0x5e00, [4]uint64{0x9613245028364aa9, 0x2ae7f52626a93f0e, 0x6f478916d2a3fa01, 0xc991706bb48d851e}, false, 0x5e20, 0x4ede8f13ce357017, 0xce59ba3ece96e4f5},     // cvtdq2ps
	{"660f5bc1", 0x3080, [4]uint64{0xfff0fcb45b6ac27f, 0xbfffffff7fc32ae2, 0xfba53589807ffffe, 0xe1a600cb00000000}, false, 0x30a1, 0x80000000ffffffff, 0x8000000000000000},   // cvtps2dq
	{"660fe6c1", 0xa080, [4]uint64{0x364a9c5dfebb3, 0xfff0000000000000, 0x476069a8bc60c9, 0xfff0000000000000}, true, 0xa0a1, 0x364a9c5dfebb3, 0xfff0000000000000},            // cvttpd2dq
	{"f20fe6c1", 0x6e00, [4]uint64{0xe04ed25d7cdc1d9c, 0x7fea25964e543ed0, 0x801e7fb0021c5602, 0x8000000000000000}, true, 0x6e20, 0xe04ed25d7cdc1d9c, 0x7fea25964e543ed0},    // cvtpd2dq
	{"f20f5ac1", 0x59c0, [4]uint64{0x7ff250f7ffc61f47, 0x7f14438a74e0648c, 0x807ffffd655cce3a, 0x793f180359b034d5}, false, 0x59f0, 0x7ff250f780000000, 0x7f14438a74e0648c},   // cvtsd2ss
	{"f30f5ac1", 0x6380, [4]uint64{0xe120bd5fd632d678, 0x7ff0000000000000, 0x3ccae804001e4576, 0xbff2000000000000}, false, 0x6382, 0x37ee457600000000, 0x7ff0000000000000},   // cvtss2sd
	{"f20f7cc1", 0x9a80, [4]uint64{0x7fb5360380a01990, 0xff8000001b170efb, 0x3c64c7e9b261ab23, 0xbd00af1b80c85154}, false, 0x9aa1, 0xff8000007ff53603, 0xbd00af1b3c64c7db},   // haddps
	{"660f7dc1", 0x8c0, [4]uint64{0x78c944c49adc3b8f, 0x0, 0x8000000000000000, 0x1e94ad12ca19cd}, false, 0x8c0, 0x78c944c49adc3b8f, 0x801e94ad12ca19cd},                      // hsubpd
	{"f20fd0c1", 0x4380, [4]uint64{0xe43004e7dbb7ab, 0x3f7fffff7f800000, 0xffbe05c180cf0023, 0x7fad5c09}, true, 0x43a1, 0xe43004e7dbb7ab, 0x3f7fffff7f800000},                // addsubps
	{"660fd0c1", 0x7280, [4]uint64{0xfff0147edc534e2f, 0x852dbfc44327ed68, 0x1eb8ed9b47bb54, 0x1196812b5a1d37}, false, 0x72a1, 0xfff8147edc534e2f, 0x852dbfc44327ed67},       // addsubpd
	{"0f58c1", 0x140, [4]uint64{0x997819fd0129793d, 0x7f26bf2c7f46cbe7, 0x7fe6ad768062f35b, 0x807ffffd34018b60}, true, 0x160, 0x997819fd0129793d, 0x7f26bf2c7f46cbe7},        // addps
	{"660f58c1", 0x2340, [4]uint64{0xfff94e1cd691efa3, 0xfff1551386768535, 0x8000000000000000, 0x4a461b785d9b35}, true, 0x2341, 0xfff94e1cd691efa3, 0xfff1551386768535},      // addpd
	{"f30f58c1", 0xfa40, [4]uint64{0x7f865b330055e01b, 0x802cc4c380000000, 0xff9139db7f88c283, 0x636f8dcf025066ec}, true, 0xfa41, 0x7f865b330055e01b, 0x802cc4c380000000},    // addss
	{"f20f58c1", 0x5500, [4]uint64{0x3ff0000000000000, 0xd9a67eec0087dde8, 0x800ffffffffffffd, 0x3ffe000000000000}, false, 0x5522, 0x3ff0000000000000, 0xd9a67eec0087dde8},   // addsd
	{"0f5cc1", 0x1080, [4]uint64{0x322634a97f927ea7, 0x7fffff007fffff, 0x7f880eabffa2df1b, 0x7f8543a1ff5d4617}, true, 0x1083, 0x322634a97f927ea7, 0x7fffff007fffff},          // subps
	{"f20f5cc1", 0x3200, [4]uint64{0x3815178d965cc8, 0x1334e6c02c1799e9, 0x804fc683a942cd44, 0x3f6fffffffffffff}, false, 0x3200, 0x55e887b806fdd4, 0x1334e6c02c1799e9},       // subsd
	{"0f59c1", 0xb100, [4]uint64{0x807ffffe7bdeb62f, 0x22d801bfd00000, 0x3fffffff9893aaa1, 0x3fe00000}, false, 0xb122, 0x80fffffcd500770f, 0xc0360000},                       // mulps
	{"660f59c1", 0x3180, [4]uint64{0xfff58c2ddc082213, 0x801c3eb66576e51d, 0xbf1fffffffffffff, 0x3f1fffffffffffff}, true, 0x31b1, 0xfff58c2ddc082213, 0x801c3eb66576e51d},    // mulpd
	{"f30f59c1", 0x69c0, [4]uint64{0xbfc00000ff800000, 0x7fc38950806b549b, 0x80ed589dff4151d1, 0xbd7fffffb5ffffff}, false, 0x69c0, 0xbfc000007f800000, 0x7fc38950806b549b},   // mulss
	{"f20f59c1", 0x48c0, [4]uint64{0x804f9bfdfd95bdca, 0xffff08f73498a0ac, 0xfff79fdb256ab8b1, 0x7ff1dc4025fe7c7d}, false, 0x48c1, 0xffff9fdb256ab8b1, 0xffff08f73498a0ac},   // mulsd
	{"0f5ec1", 0xabc0, [4]uint64{0x7ffffe1ec7b7da, 0x45bfc581426200, 0x7fde6871ff490f1e, 0x7ffffd7f800000}, true, 0xabf1, 0x7ffffe1ec7b7da, 0x45bfc581426200},                // divps
	{"660f5ec1", 0x15c0, [4]uint64{0x0, 0xffe4496dab64e593, 0x2dc6ba7085a53b66, 0x0}, true, 0x15c4, 0x0, 0xffe4496dab64e593},                                                 // divpd
	{"f30f5ec1", 0xb80, [4]uint64{0xffc76a8ec3eea3d3, 0xa5d363f9008576f4, 0x3fe000004fa36ca5, 0x7fbe9b71e20df2d7}, true, 0xba0, 0xffc76a8ec3eea3d3, 0xa5d363f9008576f4},      // divss
	{"f20f5ec1", 0x5680, [4]uint64{0x3b7f4f06ff54ac5c, 0x0, 0x64b3ab48dec42c17, 0x129707a494fa0d}, false, 0x56a0, 0x16b977e660dbb9df, 0x0},                                   // divsd
	{"0f51c1", 0xf300, [4]uint64{0x3fa00000b7ffffff, 0x48c4158f7ae575, 0x80264c9b0015ab89, 0xa5271219ff4ce7ed}, true, 0xf303, 0x3fa00000b7ffffff, 0x48c4158f7ae575},          // sqrtps
	{"660f51c1", 0x34c0, [4]uint64{0x3bc87838b00b79, 0xffe1f12b85560370, 0x8000000000000000, 0x8036cb0d47e8122f}, false, 0x34c1, 0x8000000000000000, 0xfff8000000000000},     // sqrtpd
	{"f30f51c1", 0x1d80, [4]uint64{0x212f7b82c337f99, 0x7f800000bfb00000, 0x7ffffe7feb6de0, 0x95dea51700165617}, false, 0x1d80, 0x212f7b87feb6de0, 0x7f800000bfb00000},       // sqrtss
	{"f20f51c1", 0x1800, [4]uint64{0x7ff99116a53c1fcd, 0x7cbd9fd8b20bc9a, 0xffffb61b9724bde6, 0x800c8b5285ac7975}, false, 0x1800, 0xffffb61b9724bde6, 0x7cbd9fd8b20bc9a},     // sqrtsd
	{"0f5dc1", 0x7f40, [4]uint64{0x146be86805d3ffd, 0x7f800000ff800000, 0x1e2ebe0ffaa21c1, 0xbfc00000fffe9bb6}, true, 0x7f41, 0x146be86805d3ffd, 0x7f800000ff800000},         // minps
	{"660f5fc1", 0x69c0, [4]uint64{0x8000000000000000, 0xfff7784cb6783099, 0x7ff0000000000000, 0x8000000000000000}, false, 0x69c1, 0x7ff0000000000000, 0x8000000000000000},   // maxpd
	{"f20f5dc1", 0x6e00, [4]uint64{0xd48791563db810fc, 0xfff0b8e286aa9a81, 0x7ff0f05f01d91b11, 0x80032a999bc2156f}, true, 0x6e01, 0xd48791563db810fc, 0xfff0b8e286aa9a81},    // minsd
	{"f30f5fc1", 0x5c00, [4]uint64{0x7f2671d23f800000, 0xbfd0000000501dff, 0x7f3842ca05916848, 0xbfc00000ff98335d}, false, 0x5c00, 0x7f2671d23f800000, 0xbfd0000000501dff},   // maxss
	{"0fc2c101", 0x2380, [4]uint64{0x329fa9b, 0x4d605214805467cf, 0xff58d23cfff51f00, 0x80827fdabfc00000}, false, 0x2383, 0x0, 0x0},                                          // cmpltps
	{"660fc2c102", 0x7a80, [4]uint64{0x8018ccdafb318e1d, 0xbfbfffffffffffff, 0xa5a80d49e6e822a9, 0x3ff6000000000000}, false, 0x7a80, 0x0, 0xffffffffffffffff},                // cmplepd
	{"f30fc2c100", 0x3d00, [4]uint64{0x803c0c6d3c7fffff, 0x66efdbc9bfc00000, 0x7f82474d3ff00000, 0x95ac269dbbf8fd5}, false, 0x3d00, 0x803c0c6d00000000, 0x66efdbc9bfc00000},  // cmpeqss
	{"f20fc2c103", 0x3bc0, [4]uint64{0x93cb4f5f7ce57, 0x80165cfe874168cf, 0x7ffb8f992ccaa04c, 0x8000000000000000}, false, 0x3bc0, 0xffffffffffffffff, 0x80165cfe874168cf},    // cmpunordsd
	{"660f5ac1", 0x8400, [4]uint64{0x7ff4927f8fd33867, 0xffffffffffffd, 0x153084890e753d, 0x7fee18114bb6af1d}, true, 0x8438, 0x7ff4927f8fd33867, 0xffffffffffffd},            // cvtpd2ps
	{"0f5ac1", 0x880, [4]uint64{0x3ff4000000000000, 0x4d7cb4a9db8a93c5, 0xacb24d82fa6b7, 0x803e460449855d74}, true, 0x882, 0x3ff4000000000000, 0x4d7cb4a9db8a93c5},           // cvtps2pd
	{"0f5bc1", 0x8580, [4]uint64{0xe74a32f3b352cdfb, 0x436134dd9450eb1d, 0xde5c1711acf76f9e, 0x4cfb352e1ac65ea3}, true, 0x85a0, 0xe74a32f3b352cdfb, 0x436134dd9450eb1d},      // cvtdq2ps
	{"660f5bc1", 0xec40, [4]uint64{0xcf48800aff800000, 0xffb1104bff800000, 0x468132ff36ffffff, 0xb46483656362ad2b}, true, 0xec41, 0xcf48800aff800000, 0xffb1104bff800000},    // cvtps2dq
	{"660fe6c1", 0x4800, [4]uint64{0xfff0000000000000, 0xd2057dd4ee63a714, 0xa289fe86b00fd91, 0xffffffffffffe}, true, 0x4820, 0xfff0000000000000, 0xd2057dd4ee63a714},        // cvttpd2dq
	{"f20fe6c1", 0x1080, [4]uint64{0xfff0000000000000, 0x3e4fffffffffffff, 0x219fe90efb43dad9, 0xfff65e81139a5eb3}, false, 0x10a1, 0x8000000000000000, 0x0},                  // cvtpd2dq
	{"f20f5ac1", 0x6b40, [4]uint64{0x69b32538bfa00000, 0xbf90000000431755, 0x1123c2ec138b9ec, 0xbfb00000007ffffd}, true, 0x6b70, 0x69b32538bfa00000, 0xbf90000000431755},     // cvtsd2ss
	{"f30f5ac1", 0x7680, [4]uint64{0x80013ea302e9c4c3, 0x4346622365506d, 0xbfbfffffffffffff, 0x3aedb33cd41b66}, false, 0x7680, 0xffffffffe0000000, 0x4346622365506d},         // cvtss2sd
	{"f20f7cc1", 0xd880, [4]uint64{0xffef9add80d4b341, 0xff843a517f1b1d47, 0xff80000000000000, 0xed3f3180408e71}, true, 0xd883, 0xffef9add80d4b341, 0xff843a517f1b1d47},      // haddps
	{"660f7dc1", 0x7600, [4]uint64{0xfff0000000000000, 0xfffe2f18a617ee37, 0x80032a43c1b4808d, 0x800ffffffffffffe}, true, 0x7602, 0xfff0000000000000, 0xfffe2f18a617ee37},    // hsubpd
	{"f20fd0c1", 0x3440, [4]uint64{0x7f4c02bbf5d34d63, 0x7f0d328b1f3f1689, 0xff6589e400ce2ab6, 0xff800000ff75e1c2}, false, 0x3460, 0xfdcc3948f5d34d64, 0xff8000007f75e1c2},   // addsubps
	{"660fd0c1", 0x4400, [4]uint64{0x7fe94c63ea8ffb20, 0x7ff8a4a52865d355, 0xbe9fffffffffffff, 0xfffff91bc9474da4}, true, 0x4420, 0x7fe94c63ea8ffb20, 0x7ff8a4a52865d355},    // addsubpd
	{"0f58c1", 0x30c0, [4]uint64{0x807ffffdbff00000, 0x144952732ffffff, 0xffcb5421ff800000, 0xad9dace580182257}, false, 0x30e0, 0xffcb5421ff800000, 0xad9dace532ffffff},      // addps
	{"660f58c1", 0x900, [4]uint64{0x932ce58f62fcb46, 0x7ff0000000000000, 0x8025e275ea65c375, 0xfffc6c4ee576aebb}, true, 0x920, 0x932ce58f62fcb46, 0x7ff0000000000000},        // addpd
	{"f30f58c1", 0x5e80, [4]uint64{0xbfd000003305c27b, 0x7f80000000eb0f56, 0x807ffffe, 0xe3f7cb7f800000}, true, 0x5e82, 0xbfd000003305c27b, 0x7f80000000eb0f56},              // addss
	{"f20f58c1", 0xb8c0, [4]uint64{0x8012a2719638b707, 0xfff84542242cc8aa, 0x0, 0xbffa000000000000}, false, 0xb8c0, 0x8012a2719638b707, 0xfff84542242cc8aa},                  // addsd
	{"0f5cc1", 0x4c40, [4]uint64{0x7ffffffff6aeeb, 0x80f3138fffabc661, 0x7f1d8b7980ea5638, 0xff8000007f189953}, true, 0x4c41, 0x7ffffffff6aeeb, 0x80f3138fffabc661},          // subps
	{"f20f5cc1", 0xea80, [4]uint64{0x269dc11c1343cc, 0x800c42df4808714f, 0x1e20d953c26d677c, 0xfff0000000000000}, true, 0xeaa0, 0x269dc11c1343cc, 0x800c42df4808714f},        // subsd
	{"0f59c1", 0x6940, [4]uint64{0xac62a3e238d03c, 0xff0cbe027fe95e55, 0x7f7e6beb802643b9, 0xff800000b151f520}, true, 0x6960, 0xac62a3e238d03c, 0xff0cbe027fe95e55},          // mulps
	{"660f59c1", 0x2680, [4]uint64{0xa6072e5578ee71b3, 0x7ffdd713eda66b08, 0x7feed30fd2e1af95, 0x1db47bbb00ca2d}, true, 0x26a0, 0xa6072e5578ee71b3, 0x7ffdd713eda66b08},      // mulpd
	{"f30f59c1", 0x5040, [4]uint64{0x85f2db807ffffd, 0xb87fffff007fffff, 0xff78470080000000, 0x7ffffdb9ffffff}, false, 0x5040, 0x85f2db00000000, 0xb87fffff007fffff},         // mulss
	{"f20f59c1", 0x1480, [4]uint64{0xffffffffffffe, 0xffffffffffffd, 0xbff2000000000000, 0x800ffffffffffffd}, true, 0x1482, 0xffffffffffffe, 0xffffffffffffd},                // mulsd
	{"0f5ec1", 0xf980, [4]uint64{0x7ffffdfffd0c51, 0xb1a77bad807ffffd, 0x892fe37f800000, 0xb17fffff4edc3a23}, false, 0xf9b2, 0x3f6edb34fffd0c51, 0x3fa77bad80000000},         // divps
	{"660f5ec1", 0x3680, [4]uint64{0x35263eb124e761af, 0x4e2a0383eacdafdb, 0x7ff0000000000000, 0xdd1ca583ccc15c0e}, false, 0x36a0, 0x0, 0xb0fd0f199163ff4e},                  // divpd
	{"f30f5ec1", 0x7200, [4]uint64{0xffcba29738ffffff, 0x807fffffbfd00000, 0xb5ffffff007fffff, 0x216c786ff5b16dc}, true, 0x7202, 0xffcba29738ffffff, 0x807fffffbfd00000},     // divss
	{"f20f5ec1", 0x5780, [4]uint64{0x3ffe000000000000, 0xe6cfd2a320357923, 0x37425c17cc0191a4, 0x3ff2000000000000}, false, 0x57a0, 0x48aa24e7eabc3f0c, 0xe6cfd2a320357923},   // divsd
	{"0f51c1", 0x7080, [4]uint64{0x802ad421, 0x8081ba590016793d, 0xf44f5040bf900000, 0x7fa82da533ffffff}, false, 0x70a1, 0xffc00000ffc00000, 0x7fe82da539b504f2},             // sqrtps
	{"660f51c1", 0x1000, [4]uint64{0xde5cc2a8e17c376b, 0xfff0000000000000, 0x3fdfffffffffffff, 0xbffc000000000000}, true, 0x1001, 0xde5cc2a8e17c376b, 0xfff0000000000000},    // sqrtpd
	{"f30f51c1", 0xdb00, [4]uint64{0x6847a54954f4974c, 0x1c07ef30af924be, 0x4b6ae93e3fe00000, 0x4f46872a7fb06873}, false, 0xdb20, 0x6847a5493fa953fe, 0x1c07ef30af924be},     // sqrtss
	{"f20f51c1", 0x1780, [4]uint64{0xfff493edb37c6a6d, 0xfff826be5175cbb1, 0xfffe4691fecee755, 0x803513108b3cd8fb}, false, 0x1780, 0xfffe4691fecee755, 0xfff826be5175cbb1},   // sqrtsd
	{"0f5dc1", 0xf800, [4]uint64{0x7fc7825d340ad92a, 0xf499a8bb7f8c40d1, 0x807fffff41c739b6, 0x7fcd9ddb00000000}, true, 0xf801, 0x7fc7825d340ad92a, 0xf499a8bb7f8c40d1},      // minps
	{"660f5fc1", 0x2680, [4]uint64{0x8000000000000000, 0xfff9583754f5d243, 0x0, 0xfffffffffffff}, false, 0x2681, 0x0, 0xfffffffffffff},                                       // maxpd
	{"f20f5dc1", 0x8d00, [4]uint64{0x800fffffffffffff, 0xd2f59804d2818212, 0x0, 0xfff4cc48198efdd1}, false, 0x8d02, 0x800fffffffffffff, 0xd2f59804d2818212},                  // minsd
	{"f30f5fc1", 0x3d80, [4]uint64{0x80fb02e5e842ca97, 0x24d641f1ff8d608f, 0x807ffffdff5c05e6, 0xffa966cb8094b144}, false, 0x3d80, 0x80fb02e5e842ca97, 0x24d641f1ff8d608f},   // maxss
	{"0fc2c101", 0x3a80, [4]uint64{0x6073aaa6ff061cee, 0x80ac11577fea442d, 0x804b3c43920aa8d2, 0x27f095fd9587296}, true, 0x3a83, 0x6073aaa6ff061cee, 0x80ac11577fea442d},     // cmpltps
	{"660fc2c102", 0x6200, [4]uint64{0xfff7402e5f64d17b, 0xfff3072cfa4d191b, 0x1abd3502440719da, 0x7ff523d5656e35d1}, true, 0x6201, 0xfff7402e5f64d17b, 0xfff3072cfa4d191b},  // cmplepd
	{"f30fc2c100", 0xa00, [4]uint64{0x7ff97ef27fd13f35, 0xb57fffff807ffffd, 0x8df173b9ffffff, 0xe8a9562b7f067464}, false, 0xa00, 0x7ff97ef200000000, 0xb57fffff807ffffd},     // cmpeqss
	{"f20fc2c103", 0xfd80, [4]uint64{0x14c464c0ace60a, 0x3ffa000000000000, 0xfff3afae93519437, 0x800ffffffffffffd}, false, 0xfd81, 0xffffffffffffffff, 0x3ffa000000000000},   // cmpunordsd
	{"660f5ac1", 0x9e00, [4]uint64{0xfffa9f4a225fc0b2, 0x0, 0xd47621bf1ccbe7da, 0xffffffffffffd}, true, 0x9e02, 0xfffa9f4a225fc0b2, 0x0},                                     // cvtpd2ps
	{"0f5ac1", 0xb980, [4]uint64{0xfff227ec3f3b3baf, 0x8000000000000000, 0x801e277bff202bab, 0x800fffffffffffff}, false, 0xb982, 0xc7e4057560000000, 0xb7ee277b00000000},     // cvtps2pd
	{"0f5bc1", 0x5600, [4]uint64{0x43434fc1f1ed228b, 0x354aae2c1e147945, 0x669585fc875e0c47, 0x4f8b1541078c2327}, false, 0x5620, 0x4ecd2b0ccef143e7, 0x4e9f162b4cf18465},     // cvtdq2ps
	{"660f5bc1", 0x7b40, [4]uint64{0x20c3a48ffc9850f, 0xffdf2c0e7f9f5a05, 0x807ffffdff800000, 0x7f91b11b80fbeefc}, true, 0x7b41, 0x20c3a48ffc9850f, 0xffdf2c0e7f9f5a05},      // cvtps2dq
	{"660fe6c1", 0x5a80, [4]uint64{0x3b75d8bae14e22dc, 0xcfa636785da2b845, 0x4e3a3b4b79fe1fe5, 0xf29f4b81724421a1}, false, 0x5a81, 0x8000000080000000, 0x0},                  // cvttpd2dq
	{"f20fe6c1", 0x1280, [4]uint64{0xfffd4b2ede535a00, 0x800ffffffffffffd, 0x3f2fffffffffffff, 0xbffc000000000000}, false, 0x12a0, 0xfffffffe00000000, 0x0},                  // cvtpd2dq
	{"f20f5ac1", 0x9f80, [4]uint64{0x7ffffd9a8dda3c, 0xff0452f27ffc4b37, 0x7f3fea01163f1d7e, 0xf0deb600000000}, false, 0x9fa8, 0x7ffffd7f800000, 0xff0452f27ffc4b37},         // cvtsd2ss
	{"f30f5ac1", 0x1a80, [4]uint64{0x7ff0000000000000, 0x252a4bd989f0da, 0x801951a3e5000a16, 0x81d1aa07f73351f7}, false, 0x1a80, 0xc4a00142c0000000, 0x252a4bd989f0da},       // cvtss2sd
	{"f20f7cc1", 0xd000, [4]uint64{0xffbd5ec70029811d, 0xe345abe200000000, 0x8000000080000000, 0xf48e347e7f955ba1}, true, 0xd001, 0xffbd5ec70029811d, 0xe345abe200000000},    // haddps
	{"660f7dc1", 0x8a00, [4]uint64{0xbff2000000000000, 0x8011eda223e2d86b, 0xbfefffffffffffff, 0x0}, true, 0x8a20, 0xbff2000000000000, 0x8011eda223e2d86b},                   // hsubpd
	{"f20fd0c1", 0x2340, [4]uint64{0x7ffffe8068f7a1, 0x80a757d6007ffffd, 0x80180ca700000000, 0xff738dafd7aacfb8}, true, 0x2360, 0x7ffffe8068f7a1, 0x80a757d6007ffffd},        // addsubps
	{"660fd0c1", 0x4600, [4]uint64{0x4eefdfa5d6cee6b1, 0x8009554dc68c7aff, 0x8000000000000000, 0x800ffffffffffffd}, true, 0x4602, 0x4eefdfa5d6cee6b1, 0x8009554dc68c7aff},    // addsubpd
	{"0f58c1", 0xbc0, [4]uint64{0x9f0bafe4ff8c0199, 0x807fffff4515a8fb, 0x15e40bbeffffff, 0xb38115edff86d2af}, false, 0xbc1, 0x9f0bafe4ffcc0199, 0xb38115edffc6d2af},         // addps
	{"660f58c1", 0x6b80, [4]uint64{0xffeb8ce42c88064a, 0x1c7ca8d3f1d966, 0x37aeeeab77fa51, 0xbe9fffffffffffff}, true, 0x6ba0, 0xffeb8ce42c88064a, 0x1c7ca8d3f1d966},          // addpd
	{"f30f58c1", 0x6240, [4]uint64{0xff3167a2919e1f16, 0x7f2e3dbd7f800000, 0x3fc0000000000000, 0x8089d5c1ff07df44}, false, 0x6240, 0xff3167a2919e1f16, 0x7f2e3dbd7f800000},   // addss
	{"f20f58c1", 0x74c0, [4]uint64{0x801bedff981ae3c4, 0xfff0000000000000, 0xa0280755a7bc7443, 0x0}, false, 0x74e0, 0xa0280755a7bc7443, 0xfff0000000000000},                  // addsd
	{"0f5cc1", 0xe80, [4]uint64{0xb742f21a138cd707, 0xff8cdc197f78d468, 0x2371182800f0f7a8, 0xbeffffffffebf373}, true, 0xea1, 0xb742f21a138cd707, 0xff8cdc197f78d468},        // subps
	{"f20f5cc1", 0x5400, [4]uint64{0x915051380ab40966, 0x3ffa000000000000, 0x7fe3af48f6798b59, 0x3fdfffffffffffff}, false, 0x5420, 0xffe3af48f6798b59, 0x3ffa000000000000},   // subsd
	{"0f59c1", 0xda80, [4]uint64{0x80baae2a7f800000, 0xb77fffff7f800000, 0x3effffff8034c691, 0x7f9fbd7100481e5f}, true, 0xda83, 0x80baae2a7f800000, 0xb77fffff7f800000},      // mulps
	{"660f59c1", 0xdf00, [4]uint64{0x800ffffffffffffd, 0x801827f636ee4731, 0xfff99af5417bfed0, 0x7fe7b94fc5efb41e}, false, 0xdf20, 0xfff99af5417bfed0, 0xc011e89c36fba283},   // mulpd
	{"f30f59c1", 0x400, [4]uint64{0x803215c37f800000, 0x897fa63bffffff, 0x7feef240807ffffd, 0x9f3eb884802c5217}, true, 0x402, 0x803215c37f800000, 0x897fa63bffffff},          // mulss
	{"f20f59c1", 0xce00, [4]uint64{0xbecfffffffffffff, 0x8000000000000000, 0x800e19c24854f56b, 0xfffffffffffff}, true, 0xce02, 0xbecfffffffffffff, 0x8000000000000000},       // mulsd
	{"0f5ec1", 0x3c0, [4]uint64{0x31de2b91412262f5, 0x8044d385b3ee9d78, 0x8000000000f5960c, 0x82658db643226ece}, true, 0x3ec, 0x31de2b91412262f5, 0x8044d385b3ee9d78},        // divps
	{"660f5ec1", 0x6900, [4]uint64{0x7ffbe680d8d81982, 0xbc712c437868d421, 0x19e3b024eadd26, 0xbe3fffffffffffff}, true, 0x6920, 0x7ffbe680d8d81982, 0xbc712c437868d421},      // divpd
	{"f30f5ec1", 0xfd80, [4]uint64{0x807ffffd806ca89d, 0x821dab3dfdcfce9c, 0xffb98a65f0106d9c, 0xff800000bfb00000}, false, 0xfdb2, 0x807ffffd00000000, 0x821dab3dfdcfce9c},   // divss
	{"f20f5ec1", 0x6ac0, [4]uint64{0xfffa01132fba391f, 0x3ff0000000000000, 0x0, 0x800ffffffffffffe}, false, 0x6ac0, 0xfffa01132fba391f, 0x3ff0000000000000},                  // divsd
	{"0f51c1", 0xcc0, [4]uint64{0xffa6f38580000000, 0x80303e0b80000000, 0x690ed0000000000, 0x7f4052e0807ffffd}, true, 0xce0, 0xffa6f38580000000, 0x80303e0b80000000},         // sqrtps
	{"660f51c1", 0x4180, [4]uint64{0xb7a7c36b17f6f, 0x7ff725225e09363b, 0xab801f0d7b029, 0xffefe73d655f6198}, true, 0x41a3, 0xb7a7c36b17f6f, 0x7ff725225e09363b},             // sqrtpd
	{"f30f51c1", 0x9080, [4]uint64{0x7f0c2ac46d948422, 0xff8000000230c290, 0x46eb2839803f1501, 0x31fc348680000000}, false, 0x9081, 0x7f0c2ac4ffc00000, 0xff8000000230c290},   // sqrtss
	{"f20f51c1", 0xfbc0, [4]uint64{0x35d11ab5f2b97d73, 0x0, 0x7ff0000000000000, 0xffe954c7c1510672}, false, 0xfbc0, 0x7ff0000000000000, 0x0},                                 // sqrtsd
	{"0f5dc1", 0x9000, [4]uint64{0xff7f2fc680000000, 0x94cb064c80ce2a3a, 0x68c9b4c500e1bc21, 0x806e2f7900d7409d}, true, 0x9002, 0xff7f2fc680000000, 0x94cb064c80ce2a3a},      // minps
	{"660f5fc1", 0x4800, [4]uint64{0x0, 0x8044eaee015a3347, 0xfff0000000000000, 0x8000000000000000}, false, 0x4800, 0x0, 0x8000000000000000},                                 // maxpd
	{"f20f5dc1", 0x2000, [4]uint64{0x3ff6000000000000, 0x193df36864081f, 0xbffa000000000000, 0x5833f04b7db8d}, false, 0x2000, 0xbffa000000000000, 0x193df36864081f},          // minsd
	{"f30f5fc1", 0x25c0, [4]uint64{0x7fc1f48e367fffff, 0x7f9824d380000000, 0x7f1f00cd00000000, 0x11f9617f9cb193}, false, 0x25c0, 0x7fc1f48e367fffff, 0x7f9824d380000000},     // maxss
	{"0fc2c101", 0x7e80, [4]uint64{0x80000000, 0x807ffffe80000000, 0xffb4a46f3f800000, 0xffb91053bfe00000}, false, 0x7e81, 0xffffffff, 0x0},                                  // cmpltps
	{"660fc2c102", 0x2b80, [4]uint64{0xffe08a2300bd5fb6, 0x80146b8e8c6881f9, 0xfffd38694963d573, 0x8000000000000000}, false, 0x2b81, 0x0, 0xffffffffffffffff},                // cmplepd
	{"f30fc2c100", 0x7c80, [4]uint64{0xaf077e9e807fffff, 0xbbffffff021e315a, 0x34ffffffff800000, 0x807ffffe82713584}, true, 0x7c82, 0xaf077e9e807fffff, 0xbbffffff021e315a},  // cmpeqss
	{"f20fc2c103", 0xe700, [4]uint64{0x800fffffffffffff, 0xe42cf73708edb, 0xfff0000000000000, 0x3ffe000000000000}, false, 0xe702, 0x0, 0xe42cf73708edb},                      // cmpunordsd
	{"660f5ac1", 0x17c0, [4]uint64{0xa82072106eede6c, 0x2cca97b563fdb5e3, 0x11af0538424518, 0x800fffffffffffff}, true, 0x17f0, 0xa82072106eede6c, 0x2cca97b563fdb5e3},        // cvtpd2ps
	{"0f5ac1", 0xe780, [4]uint64{0x3fdfffffffffffff, 0x7ff284f01936824b, 0x7ff64f86460c4da1, 0x3effffffffffffff}, false, 0xe780, 0x40c189b420000000, 0x7ffec9f0c0000000},     // cvtps2pd
	{"0f5bc1", 0x51c0, [4]uint64{0xd16dfb8cc8a2ea6d, 0x6e04ce1b86f20f4b, 0x8241740e813d0c18, 0x3b29cfdd2c33b431}, false, 0x51e0, 0xcefb7d17cefd85e7, 0x4e6ca7404e30ced1},     // cvtdq2ps
	{"660f5bc1", 0x4a00, [4]uint64{0x7f2be153bfe00000, 0x807fffffff800000, 0x9215696930c146e3, 0x800000000634d388}, true, 0x4a20, 0x7f2be153bfe00000, 0x807fffffff800000},    // cvtps2dq
	{"660fe6c1", 0x780, [4]uint64{0x3eefffffffffffff, 0xfff4caf17b46291b, 0x80386f5c01d36838, 0xbe8fffffffffffff}, true, 0x7a0, 0x3eefffffffffffff, 0xfff4caf17b46291b},      // cvttpd2dq
	{"f20fe6c1", 0x7d80, [4]uint64{0x7fe9e2fb7241d4ac, 0x47654b6fd405a0, 0xfffa6ffc6d268aaf, 0xa03da7845ebfb031}, false, 0x7da1, 0x80000000, 0x0},                            // cvtpd2dq
	{"f20f5ac1", 0x5480, [4]uint64{0x9c9eb5000cc67b, 0xd479fa413fa00000, 0xff80000076db373e, 0x3fb000007fb8954f}, false, 0x54a8, 0x9c9eb5ff7fffff, 0xd479fa413fa00000},       // cvtsd2ss
	{"f30f5ac1", 0x6140, [4]uint64{0xa08cb5529e2e3, 0x8026dc5c7118ec97, 0x3ffa000000000000, 0x3ff8000000000000}, false, 0x6140, 0x0, 0x8026dc5c7118ec97},                     // cvtss2sd
	{"f20f7cc1", 0xa400, [4]uint64{0x7f1cf1ede195edbe, 0x5c9f7f0580e97a71, 0xbdffffff80211de3, 0x807f805b}, true, 0xa402, 0x7f1cf1ede195edbe, 0x5c9f7f0580e97a71},            // haddps
	{"660f7dc1", 0x6f00, [4]uint64{0x800e36b924f4cf8f, 0xfffce0f7c5765c41, 0xffead4b22ab774ac, 0x80129c7329050684}, true, 0x6f20, 0x800e36b924f4cf8f, 0xfffce0f7c5765c41},    // hsubpd
	{"f20fd0c1", 0x3f80, [4]uint64{0x31692782806a4657, 0x80000000003eb497, 0x9ddc239eb87fffff, 0x2f1a7b74ffc08e71}, false, 0x3fa2, 0x31692781387ffffe, 0x2f1a7b74ffc08e71},   // addsubps
	{"660fd0c1", 0x4280, [4]uint64{0x800abc4896128647, 0xfff0000000000000, 0xffffffffffffd, 0x7fe24cc64b177ce1}, true, 0x4282, 0x800abc4896128647, 0xfff0000000000000},       // addsubpd
	{"0f58c1", 0x7d00, [4]uint64{0x80e59432bfa00000, 0x807fffff8088943b, 0x33ffffffbfa00000, 0xfffaf0787f800000}, false, 0x7d20, 0x33fffffec0200000, 0xfffaf0787f800000},     // addps
	{"660f58c1", 0x2000, [4]uint64{0x3cec22e707501584, 0xe2bcc7c255d5df77, 0x0, 0xfff0000000000000}, false, 0x2000, 0x3cec22e707501584, 0xfff0000000000000},                  // addpd
	{"f30f58c1", 0x2500, [4]uint64{0x807ffffdb47fffff, 0x7f7c87d9, 0xaf30984d00f4600d, 0x7fb96deb007fffff}, true, 0x2520, 0x807ffffdb47fffff, 0x7f7c87d9},                    // addss
	{"f20f58c1", 0x1900, [4]uint64{0xfff0000000000000, 0x0, 0xffe31092538befc8, 0x87f0ba8ce6c7b334}, false, 0x1900, 0xfff0000000000000, 0x0},                                 // addsd
	{"0f5cc1", 0x38c0, [4]uint64{0x805f7315e15b7152, 0xff2d8e46007ffffd, 0x7fffffffdf36f2, 0x8080a990ff2ee220}, false, 0x38e0, 0x80000000ffdf36f2, 0xff2d8e467f2ee220},       // subps
	{"f20f5cc1", 0x8780, [4]uint64{0xd243497f768a4716, 0xbff4000000000000, 0x80118cd770c16261, 0x800ffffffffffffd}, true, 0x87a0, 0xd243497f768a4716, 0xbff4000000000000},    // subsd
	{"0f59c1", 0x5400, [4]uint64{0x118a652e7f800000, 0xff800000ac7aa5d2, 0x807fffff7f800000, 0x7fffff007fffff}, true, 0x5402, 0x118a652e7f800000, 0xff800000ac7aa5d2},        // mulps
	{"660f59c1", 0xea00, [4]uint64{0x80068669064dede5, 0xfff9113c8b713aeb, 0xbf4fffffffffffff, 0xbff8000000000000}, true, 0xea02, 0x80068669064dede5, 0xfff9113c8b713aeb},    // mulpd
	{"f30f59c1", 0x8e80, [4]uint64{0xff519c72007fffff, 0xef163041007ffffd, 0x7ffffe00000000, 0x3fc000002ec35ec9}, true, 0x8e82, 0xff519c72007fffff, 0xef163041007ffffd},      // mulss
	{"f20f59c1", 0x6240, [4]uint64{0x58ef238110546d5c, 0xffe3133a98e28d1a, 0xbffc000000000000, 0xbe7fffffffffffff}, true, 0x6260, 0x58ef238110546d5c, 0xffe3133a98e28d1a},    // mulsd
	{"0f5ec1", 0x4440, [4]uint64{0xbf7fffff3fd00000, 0x80cc28ea377fffff, 0xffc51ff20154dcf7, 0xff800000}, true, 0x4444, 0xbf7fffff3fd00000, 0x80cc28ea377fffff},              // divps
	{"660f5ec1", 0xcf40, [4]uint64{0xfff0000000000000, 0x803868af3e67ff83, 0x555d6e952ae56f, 0x7ff3693e43491119}, true, 0xcf41, 0xfff0000000000000, 0x803868af3e67ff83},      // divpd
	{"f30f5ec1", 0x6a00, [4]uint64{0x7f8000000efc69e5, 0xff8000007f800000, 0x2b7c3b000fe4ed, 0x806e8e8f337fffff}, true, 0x6a02, 0x7f8000000efc69e5, 0xff8000007f800000},      // divss
	{"f20f5ec1", 0x3480, [4]uint64{0xfffa7b1efb0dfd1f, 0xfff0000000000000, 0xe131649f4030df2b, 0xfffffffffffff}, false, 0x3480, 0xfffa7b1efb0dfd1f, 0xfff0000000000000},      // divsd
	{"0f51c1", 0x2680, [4]uint64{0xb77fffff7f975c29, 0xff800000008a4531, 0xd02629b9ffc30126, 0xff9f50dba62655b1}, false, 0x2681, 0xffc00000ffc30126, 0xffdf50dbffc00000},     // sqrtps
	{"660f51c1", 0xba00, [4]uint64{0xbeafffffffffffff, 0x800fffffffffffff, 0x1d1cc6db25bc2a, 0x1f7e62c2dcd399}, false, 0xba20, 0x20059515fa8b1d04, 0x2006729c49631421},       // sqrtpd
	{"f30f51c1", 0x1e00, [4]uint64{0x837fc8af55c986, 0x8000000000c9f0bc, 0xba7447f1007ffffe, 0xb96af480000000}, true, 0x1e02, 0x837fc8af55c986, 0x8000000000c9f0bc},          // sqrtss
	{"f20f51c1", 0x880, [4]uint64{0x6b522b1d1973d34a, 0x7ffcef5be21ea66c, 0x8000000000000000, 0xffffffffffffd}, false, 0x880, 0x8000000000000000, 0x7ffcef5be21ea66c},        // sqrtsd
	{"0f5dc1", 0x1380, [4]uint64{0x7fdb31b880edcea9, 0x11e27fee3c7fffff, 0x8251a5de7f800000, 0xb6ffffff00c66e8e}, false, 0x1381, 0x8251a5de80edcea9, 0xb6ffffff00c66e8e},     // minps
	{"660f5fc1", 0xe180, [4]uint64{0x44fbcc16daa41a, 0xfff60e3355b9b549, 0x3ff8000000000000, 0x7ff0000000000000}, false, 0xe181, 0x3ff8000000000000, 0x7ff0000000000000},     // maxpd
	{"f20f5dc1", 0x5500, [4]uint64{0x8000000000000000, 0x7ff5c79f37a8c439, 0x3f9fffffffffffff, 0xbf6fffffffffffff}, false, 0x5500, 0x8000000000000000, 0x7ff5c79f37a8c439},   // minsd
	{"f30f5fc1", 0xe040, [4]uint64{0x80cdd259, 0x8024bc6dff8aebd1, 0x7fffff00796207, 0xffb81f2f32ffffff}, false, 0xe040, 0x0, 0x8024bc6dff8aebd1},                            // maxss
	{"0fc2c101", 0x1c40, [4]uint64{0x807ffffd7fa1ebab, 0x93f66402135c88, 0x7f4fa6c5bcffffff, 0xcd7e6c002ac62b}, true, 0x1c41, 0x807ffffd7fa1ebab, 0x93f66402135c88},          // cmpltps
	{"660fc2c102", 0xc600, [4]uint64{0x800ed2fab898bf31, 0xbfefffffffffffff, 0xfff76db6deea6427, 0x3ef7388cad1601}, true, 0xc601, 0x800ed2fab898bf31, 0xbfefffffffffffff},    // cmplepd
	{"f30fc2c100", 0xc240, [4]uint64{0xff800000337fffff, 0x1dfe11482693fa3, 0x3fb000007f800000, 0x8000000008a951cf}, false, 0xc240, 0xff80000000000000, 0x1dfe11482693fa3},   // cmpeqss
	{"f20fc2c103", 0x2d40, [4]uint64{0x8005ed1b89c36367, 0x0, 0x0, 0xdece1f5941915}, false, 0x2d40, 0x0, 0x0},                                                                // cmpunordsd
	{"660f5ac1", 0xbf80, [4]uint64{0x7ff52d1a3efa08f1, 0x1fb0e04ff6a3e86d, 0x801466930da728d9, 0x3eafffffffffffff}, false, 0xbfb0, 0x357fffff80000000, 0x0},                  // cvtpd2ps
	{"0f5ac1", 0x3c00, [4]uint64{0x7ff795d842d94819, 0x7fe7647871eab140, 0xd12b330052c29, 0x64e39f77a97f16e8}, true, 0x3c02, 0x7ff795d842d94819, 0x7fe7647871eab140},         // cvtps2pd
	{"0f5bc1", 0x3740, [4]uint64{0x12d83c45b8fb6dc8, 0x592fdf0de683af15, 0xafa7d45d0bd807d6, 0xc61f47c25512b139}, false, 0x3760, 0xcea0b0584d3d807d, 0xce6782e14eaa2562},     // cvtdq2ps
	{"660f5bc1", 0xf80, [4]uint64{0x7f800000ba7fffff, 0x8970b880000000, 0x327fffffff800000, 0x30ebf93237ffffff}, true, 0xfa1, 0x7f800000ba7fffff, 0x8970b880000000},          // cvtps2dq
	{"660fe6c1", 0x30c0, [4]uint64{0x698b7c2f724b188f, 0x6e30157b2db13a6a, 0x7ff8b4fe0e62494c, 0x0}, false, 0x30c1, 0x80000000, 0x0},                                         // cvttpd2dq
	{"f20fe6c1", 0xa340, [4]uint64{0x800ffffffffffffd, 0x7ff0000000000000, 0x0, 0xa22d10513f6b661a}, true, 0xa360, 0x800ffffffffffffd, 0x7ff0000000000000},                   // cvtpd2dq
	{"f20f5ac1", 0x8080, [4]uint64{0x7f800000008f4239, 0x308ebd9dff6465bd, 0x7fc40cbd7fd73dd0, 0xb67fffffff3dee54}, true, 0x80a8, 0x7f800000008f4239, 0x308ebd9dff6465bd},    // cvtsd2ss
	{"f30f5ac1", 0x40c0, [4]uint64{0x7feda33599d3508b, 0xffe4c426760f68c5, 0x27bb10f377b32470, 0xffe2315f06b441b0}, false, 0x40c0, 0x46f6648e00000000, 0xffe4c426760f68c5},   // cvtss2sd
	{"f20f7cc1", 0x4c0, [4]uint64{0xca84d9987f774591, 0xff800000b47fffff, 0x7f80000089eec1a6, 0x809a704e00c80a91}, true, 0x4f0, 0xca84d9987f774591, 0xff800000b47fffff},      // haddps
	{"660f7dc1", 0x1280, [4]uint64{0x3ffa000000000000, 0x124a69cbf0468c, 0x0, 0x800fffffffffffff}, true, 0x1282, 0x3ffa000000000000, 0x124a69cbf0468c},                       // hsubpd
	{"f20fd0c1", 0x41c0, [4]uint64{0xbfe000003f800000, 0xb57fffff337fffff, 0x7fe6ff577f6295fb, 0x8957839f80000000}, true, 0x41e0, 0xbfe000003f800000, 0xb57fffff337fffff},    // addsubps
	{"660fd0c1", 0x3180, [4]uint64{0x8013354ebf69defb, 0x3f0fffffffffffff, 0x4b76e318535fc5, 0xfff7799547df613f}, false, 0x31a1, 0x804ddd8cf0409ba5, 0xffff799547df613f},     // addsubpd
	{"0f58c1", 0xa180, [4]uint64{0xffb526bd357fffff, 0x2509dff80000000, 0x80147fbf007ffffe, 0x1df92c1f7f800000}, true, 0xa1a3, 0xffb526bd357fffff, 0x2509dff80000000},        // addps
	{"660f58c1", 0xed80, [4]uint64{0xffffffffffffe, 0x800fffffffffffff, 0x0, 0xec434822e473493f}, true, 0xedb2, 0xffffffffffffe, 0x800fffffffffffff},                         // addpd
	{"f30f58c1", 0x700, [4]uint64{0x6ea16bf8fffdefee, 0x80bb6f79f8081dc8, 0x5c6f6050018a94b8, 0x807ffffe3f900000}, false, 0x700, 0x6ea16bf8fffdefee, 0x80bb6f79f8081dc8},     // addss
	{"f20f58c1", 0x60c0, [4]uint64{0xffe354a22a992f5f, 0x7feb730856299af3, 0x3fbfffffffffffff, 0x5f9fefcf2b35049f}, true, 0x60e0, 0xffe354a22a992f5f, 0x7feb730856299af3},    // addsd
	{"0f5cc1", 0x400, [4]uint64{0xfcf8e77f46390d, 0x80bbd21c37ad3727, 0x215ee37bfb00000, 0x7f800000807ffffd}, true, 0x402, 0xfcf8e77f46390d, 0x80bbd21c37ad3727},             // subps
	{"f20f5cc1", 0x3280, [4]uint64{0x80183e39463f38b1, 0xbffa000000000000, 0xbe7fffffffffffff, 0xbf2fffffffffffff}, false, 0x32a0, 0x3e7ffffffffffffe, 0xbffa000000000000},   // subsd
	{"0f59c1", 0x2180, [4]uint64{0x4204e7aa7febdfb6, 0x7ff23aa47f93e389, 0x7f3670d13fc00000, 0x800f51b37fb00e07}, true, 0x21a9, 0x4204e7aa7febdfb6, 0x7ff23aa47f93e389},      // mulps
	{"660f59c1", 0x2000, [4]uint64{0x8009679d947dac5f, 0x82d200190a892fbf, 0xf5fe92467cb97, 0xaa6ad373924db2e6}, true, 0x2002, 0x8009679d947dac5f, 0x82d200190a892fbf},       // mulpd
	{"f30f59c1", 0x5d00, [4]uint64{0x807ffffd7f9cd49f, 0x8008042bff800000, 0xbfa0000031ffffff, 0xbfb000003f363ea7}, true, 0x5d01, 0x807ffffd7f9cd49f, 0x8008042bff800000},    // mulss
	{"f20f59c1", 0x140, [4]uint64{0xc60c596ee296f, 0xffffffffffffd, 0xc94b2c320e195, 0xfff0000000000000}, false, 0x140, 0x0, 0xffffffffffffd},                                // mulsd
	{"0f5ec1", 0x7800, [4]uint64{0x7f9696033ff00000, 0x7f800000546a9f56, 0xc5b75a007ffffd, 0x6645a8d6ff4f619c}, true, 0x7803, 0x7f9696033ff00000, 0x7f800000546a9f56},        // divps
	{"660f5ec1", 0xe240, [4]uint64{0x800607f09d331d2f, 0x4d24a6a1529424, 0x7ff8daa0513ceaea, 0x3988289c85aa1}, false, 0xe244, 0x7ff8daa0513ceaea, 0x7ff0000000000000},        // divpd
	{"f30f5ec1", 0x4c80, [4]uint64{0x9f8e9efffcabba, 0x0, 0x117cf041ff80027b, 0x7f98e7d18d52ab71}, false, 0x4c81, 0x9f8e9efffcabba, 0x0},                                     // divss
	{"f20f5ec1", 0x8bc0, [4]uint64{0x800fffffffffffff, 0xbff6000000000000, 0x753bfde7e94f6eb9, 0x8000000000000000}, false, 0x8bc0, 0x8000000000000000, 0xbff6000000000000},   // divsd
	{"0f51c1", 0x0, [4]uint64{0x7f919123bbffffff, 0x80631c3fb00000, 0xff871ad77f722517, 0x80d0521e002a38ed}, true, 0x3, 0x7f919123bbffffff, 0x80631c3fb00000},                // sqrtps
	{"660f51c1", 0x9f80, [4]uint64{0x7ffb9186f95e77ff, 0xe70210faea3749, 0x7ff3185621699fb3, 0x7ffcb9495def1122}, false, 0x9f81, 0x7ffb185621699fb3, 0x7ffcb9495def1122},     // sqrtpd
	{"f30f51c1", 0x3b80, [4]uint64{0x49879dc1c29c089f, 0x3bc0311600f4fce4, 0x7faeae81b9ffffff, 0x7ffffee7db126b}, false, 0x3b81, 0x49879dc1ffc00000, 0x3bc0311600f4fce4},     // sqrtss
	{"f20f51c1", 0x3c80, [4]uint64{0xe7b7e5fc1415d, 0x7cdb2d16c473c5e, 0x29ccf317ee3ef9c6, 0x80200fd23a77c19f}, false, 0x3ca0, 0x34de6fc51682a355, 0x7cdb2d16c473c5e},        // sqrtsd
	{"0f5dc1", 0xe740, [4]uint64{0x6d23111bd7fffff, 0x9299d23b80000000, 0xfffea94a387fffff, 0x3f90000081bad651}, true, 0xe741, 0x6d23111bd7fffff, 0x9299d23b80000000},        // minps
	{"660f5fc1", 0x7880, [4]uint64{0x3a0092ac072d7e, 0x12662c7922c4bf44, 0xbeafffffffffffff, 0x8000000000000000}, false, 0x7880, 0x3a0092ac072d7e, 0x12662c7922c4bf44},       // maxpd
	{"f20f5dc1", 0x7b80, [4]uint64{0x7fec7528caf1403e, 0xa5a5156d56987e19, 0x800ffffffffffffe, 0x5b059c50d038f49e}, false, 0x7b82, 0x800ffffffffffffe, 0xa5a5156d56987e19},   // minsd
	{"f30f5fc1", 0x70c0, [4]uint64{0xb0457b8771262383, 0x35ffffff80000000, 0x80facd9b80b34e73, 0xffdf79113fd00000}, false, 0x70c0, 0xb0457b8771262383, 0x35ffffff80000000},   // maxss
	{"0fc2c101", 0x7e80, [4]uint64{0x16b7ec8bfd00000, 0xff877b55bfd00000, 0x80cdf5bc007ffffe, 0xffddb61735ffffff}, true, 0x7e83, 0x16b7ec8bfd00000, 0xff877b55bfd00000},      // cmpltps
	{"660fc2c102", 0x15c0, [4]uint64{0x334ca10c2d9fc2a3, 0x14b00d463414b3, 0xffe9d0c36d32ca6f, 0x8000000000000000}, false, 0x15c0, 0x0, 0x0},                                 // cmplepd
}

func TestSSEUnmasked(t *testing.T) {
	c, _ := newWB(t, nil)
	c.cr4 |= x86.CR4OSFXSR | x86.CR4OSXMMEXCPT
	for _, r := range sseUnmaskedRows {
		code, _ := hex.DecodeString(r.code)
		xi, err := x86asm.Decode(code, 64)
		if err != nil {
			t.Fatalf("%s: %v", r.code, err)
		}
		var in inst
		if !c.convert(&xi, &in) {
			t.Fatalf("%s: not converted", r.code)
		}
		c.setXMM(0, r.in[0], r.in[1])
		c.setXMM(1, r.in[2], r.in[3])
		c.fpu.MXCSR = r.mx
		flt := catch(func() { c.execSSE(&in) })
		if (flt != nil) != r.fault || (flt != nil && flt.vector != x86.VecXM) {
			t.Errorf("%v mxcsr %#x in %#x: fault %v, host %v", xi, r.mx, r.in, flt, r.fault)
		}
		if x0, x1 := c.xmm(0); c.fpu.MXCSR != r.mxOut || x0 != r.x0 || x1 != r.x1 {
			t.Errorf("%v mxcsr %#x in %#x: MXCSR %#x XMM0 %#x %#x, host %#x %#x %#x", xi, r.mx, r.in, c.fpu.MXCSR, x0, x1, r.mxOut, r.x0, r.x1)
		}
	}
}
