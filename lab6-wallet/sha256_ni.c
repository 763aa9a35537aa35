/* sha256_ni.c - the SHA-256 compression with the x86 SHA extensions, chosen at run time.
 *
 * sha256rnds2 does two rounds, sha256msg1/msg2 do the message schedule four words at a time
 * (Intel, "Intel SHA Extensions", 2013). The state lives in two registers as ABEF and CDGH,
 * which is why it is shuffled on the way in and out. Only compiled for this one function
 * (target attribute), so the rest of the lab stays plain C11 and runs on any CPU. */
#include "sha256.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#if defined(__clang__)
#include <cpuid.h>
#endif

bool sha256_ni_available(void)
{
#if defined(__clang__)
    /* clang 14 lacks __builtin_cpu_supports("sha"): ask CPUID leaf 7 (EBX bit 29 = SHA). */
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29)))
        return false;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1);
#else
    return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
#endif
}

__attribute__((target("sha,sse4.1"))) void sha256_compress_ni(uint32_t h[8],
                                                              const uint8_t block[64])
{
    /* Big-endian words: reverse the bytes inside each 32-bit lane. */
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1); /* CDAB */
    __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);  /* EFGH */
    __m128i s0 = _mm_alignr_epi8(tmp, s1, 8);                                       /* ABEF */
    s1 = _mm_blend_epi16(s1, tmp, 0xF0);                                            /* CDGH */
    const __m128i abef = s0, cdgh = s1;

    /* m[i % 4] holds schedule words 4i..4i+3. Group i+1 is made while group i is used, so
     * that group i-1 can then be folded by msg1 into the start of group i+3. */
    __m128i m[4];
    for (int i = 0; i < 16; i++) {
        if (i < 4)
            m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16 * i)), bswap);
        __m128i w = _mm_add_epi32(m[i % 4], _mm_loadu_si128((const __m128i *)&sha256_k[4 * i]));
        s1 = _mm_sha256rnds2_epu32(s1, s0, w);
        s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(w, 0x0E));
        if (i >= 3 && i < 15) { /* W[t] = msg1(..) + W[t-7], then + sigma1(W[t-2]) */
            __m128i w7 = _mm_alignr_epi8(m[i % 4], m[(i + 3) % 4], 4);
            m[(i + 1) % 4] = _mm_sha256msg2_epu32(_mm_add_epi32(m[(i + 1) % 4], w7), m[i % 4]);
        }
        if (i >= 1 && i < 13) /* W[t-16] + sigma0(W[t-15]) for group i+3 */
            m[(i + 3) % 4] = _mm_sha256msg1_epu32(m[(i + 3) % 4], m[i % 4]);
    }

    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);
    tmp = _mm_shuffle_epi32(s0, 0x1B);   /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1);    /* DCHG */
    s0 = _mm_blend_epi16(tmp, s1, 0xF0); /* DCBA */
    s1 = _mm_alignr_epi8(s1, tmp, 8);    /* HGFE */
    _mm_storeu_si128((__m128i *)&h[0], s0);
    _mm_storeu_si128((__m128i *)&h[4], s1);
}

#else /* not x86-64 with GCC or clang: portable code only */

bool sha256_ni_available(void)
{
    return false;
}

void sha256_compress_ni(uint32_t h[8], const uint8_t block[64])
{
    sha256_compress_portable(h, block);
}

#endif
