/* bench/gaps/ecc_cost.c: time of the P-256 operations of one DTLS 1.2 ECDHE_ECDSA
 * handshake with the system mbedTLS (2.28 on Debian 12), 50 of each; see bench/GAPS.md.
 * Built with the benchmarks (build/bench/gaps_ecc_cost), or by hand:
 * cc -O2 -o /tmp/ecc_cost bench/gaps/ecc_cost.c -lmbedcrypto */
#define _POSIX_C_SOURCE 200809L  /* clock_gettime */
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e3+t.tv_nsec/1e6;}
int main(void){
  mbedtls_entropy_context ent; mbedtls_ctr_drbg_context drbg; mbedtls_entropy_init(&ent); mbedtls_ctr_drbg_init(&drbg);
  mbedtls_ctr_drbg_seed(&drbg,mbedtls_entropy_func,&ent,NULL,0);
  mbedtls_ecdsa_context k; mbedtls_ecdsa_init(&k); mbedtls_ecdsa_genkey(&k,MBEDTLS_ECP_DP_SECP256R1,mbedtls_ctr_drbg_random,&drbg);
  unsigned char h[32]={1},sig[80]; size_t sl; int N=50; double t;
  t=now(); for(int i=0;i<N;i++) mbedtls_ecdsa_write_signature(&k,MBEDTLS_MD_SHA256,h,32,sig,&sl,mbedtls_ctr_drbg_random,&drbg); printf("ecdsa sign   %.3f ms\n",(now()-t)/N);
  t=now(); for(int i=0;i<N;i++) if(mbedtls_ecdsa_read_signature(&k,h,32,sig,sl)) return 1; printf("ecdsa verify %.3f ms\n",(now()-t)/N);
  mbedtls_ecp_group g; mbedtls_ecp_group_init(&g); mbedtls_ecp_group_load(&g,MBEDTLS_ECP_DP_SECP256R1);
  mbedtls_mpi d,z; mbedtls_ecp_point Q; mbedtls_mpi_init(&d); mbedtls_mpi_init(&z); mbedtls_ecp_point_init(&Q);
  t=now(); for(int i=0;i<N;i++) mbedtls_ecdh_gen_public(&g,&d,&Q,mbedtls_ctr_drbg_random,&drbg); printf("ecdh keygen  %.3f ms\n",(now()-t)/N);
  t=now(); for(int i=0;i<N;i++) mbedtls_ecdh_compute_shared(&g,&z,&k.Q,&d,mbedtls_ctr_drbg_random,&drbg); printf("ecdh shared  %.3f ms\n",(now()-t)/N);
  mbedtls_mpi_free(&d); mbedtls_mpi_free(&z); mbedtls_ecp_point_free(&Q); mbedtls_ecp_group_free(&g);
  mbedtls_ecdsa_free(&k); mbedtls_ctr_drbg_free(&drbg); mbedtls_entropy_free(&ent);
  return 0;
}
