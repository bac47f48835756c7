/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Fixed private JWKs of the M1 and key tests (generated once with
 * python3-cryptography; test keys only, never use them anywhere else).
 * Loaded with a configured alg, so that one RSA key serves RS256, RS384
 * and RS512; rsa2 is the PS256 key.
 */


#ifndef _JWS_TEST_KEYS_H_INCLUDED_
#define _JWS_TEST_KEYS_H_INCLUDED_


static const char  m1_eddsa_jwk[] =
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"m1-eddsa\",\"x\":\"wS"
    "SVJVAyihTifUmX1KlG89SCJtNwHF1hNi4RqKuV4LA\",\"d\":\"K8Zp0R_yE2TYzLhL"
    "LH_y9aPLqledsT9OoKIEL2NxM1I\"}";
static const char  m1_es256_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"m1-es256\",\"x\":\"zeJ6y"
    "9IoCYBTB6gt0eLb7G0nenu5W1aXXPHMmg_2fzY\",\"y\":\"sLYmV2uN2SY_32MaIrK"
    "a63IbRLxRolO1TXKD_yUYR9c\",\"d\":\"YHRlXOyBmB3weaRa8L4o5Jx8DHH0C77pW"
    "ZnCdjDgwNA\"}";
static const char  m1_es384_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"m1-es384\",\"x\":\"6WQ0r"
    "aVfZfZnhHOuPkq7M2a8Ote7h2EAMSBgvzfGbSDIqeKzTNuM90zPJvhfNxIr\",\"y\":"
    "\"a8J-O-qqdlOt5zcHpdW-1J3mBgZnncTLNxQHogPrBO1AKv2-YJ55TpDFXUytW91U\""
    ",\"d\":\"rHcwKsx4gh3ipoE0L5A6NCvJYVbboP7J6KLULWa1YleExzn34qo5RigHMmc"
    "BlATn\"}";
static const char  m1_rsa1_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\"6VnFiiaRcG3slDegpwn_kW3JSJ-wqT_mSI9UKmHAf8I"
    "R6NeXt4nos-zNgEsPBSWDvT4bgsUOGjfzxXwXM3haqFOZjcRzQLmos8wWaEG7TsVUSpY"
    "zDz1XsFcnSMWUQNUPkGraBUeC3J5Dpa9GMRPnpV635WaYNOLiJdsZiv7PD5qqayRPRxf"
    "jNYN2frRAm3C8u7TXHKRRspuByddmDefwr7be0eMwHGEMmDLc2OWHZAMTXcuxAEThiQQ"
    "Epq_P5j0k0qakFziL1iVJPpVI-_VUPwW3kLWtAeCHg6ydELRy3e7g9x7vqGb3Gh7T1Yi"
    "Q77sFrlfgZC9eQ1kIsdX7-Dg6gQ\",\"e\":\"AQAB\",\"d\":\"A_wO3I3NiyOut-u"
    "I6v6c9lUErEs2cfa_yNU9DO834Vvv6y-ul8lQp600vMrV_L1tVeCBtEEx_TPKOMD7yBr"
    "MmNYP8m-HFJ_G-BuqoJ5KDkLeLlreZYAjke-JtxtRQtfQiPkGHt51Jy1tqXPdfo42NP5"
    "HJMaUdUdlhgYggMgv7XaAi8ctH9tA0Q4zkl5NUrairh1-YAo4lIfImYOJiBUfBEDk9Ge"
    "KV406ZdfHGT2dBY1uU7eV5Fq00-LsRfkASVeQ_TPlBNrsrWu8yANG6UwNPy1gIYjnFwc"
    "fiuAdO2GkxW8OcsX-OF-Uc76_YFkD1LDRKOOfLCxe98py3MkKaeBcQQ\",\"p\":\"-o"
    "_LoRSiJWnZHSziTyF95yjQ70pPEZ25VAH2jTxM-8Iyvgk4WxuEIShZMb6ozMBcdeY6jr"
    "mpPtGnE9i4-VEk6UR5Z2qo--T6w38zBpvQItwhJJ0y36lnjDGUJPp-4hWG8iZDsAtwuO"
    "QflvRqgeAQ4dJ0_EBSR3NwT0IGcCnqAvE\",\"q\":\"7mpYkb9O1PaI02JvGEQ4BR4H"
    "9NCnCsyvIsodkm3U4uJxEwwTc6og2n4WpVw5RpoEA6tTE8NuNFaKcjXkLFh4GiIYhZJm"
    "YNWGXGY_-13_5S0lDTSCQka2zoW9eY49nQq1jBG0MH0J4UK0YwqMLzFfaIjguRDiwbcM"
    "93P9GY9VkJE\",\"dp\":\"zBRA89M9eiGrcCL1tSP_Sz8oZi5tFlkT8QOkUEb0IP58m"
    "-Ign7xaszMM6wJytEpdRL4fpc48tmjGn9ieWJsp6EEYbQ4n0vse8Apzggd40FvhNtQ-8"
    "oMlTr-2_SN2IykLf8GA0iuPRVixDh_HfD8HIRdsp2SwX3f72uJZIhRRgNE\",\"dq\":"
    "\"5--1MjS2cB9WhK4h_a2AAhpxCw1hM_Rj_Kg7lJQcooxADJOW6NL9GxHG3h-V6MU0Wo"
    "11SKi6sVfvX6Rl0W5PiLzatjbyOgn_qCwg2l1b8Iu2m94VSnyYotkgtvxVnE0qyJUAgp"
    "th3S6TZjaAofiaJIvkcqWms2Vsy96evxrd1sE\",\"qi\":\"I6tzFN8kiGsz-PVNdz-"
    "FUbsBfoSei-dttDftEOsCpS8QJhJJLWwvDy4Rpwwb9Cf62WV02E43JYVtbwgP8TfbjZn"
    "-TLDQiPs-8dqFUPytaOgheZ4WHUIvoMDdNH-4-RBxoPMKlM-hQXuBBqZM1k0AFn7Ugv_"
    "uWN-ZDGlx8fWX_6k\"}";
static const char  m1_rsa2_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\"wpL8g74u6kCFF1LDDWYNpK32dGxYy1oB_YkMy1IsPax"
    "UGCqHwXHBMpWYQ4_Sq5IICX3A6FAlKqi7uYXX_pKzCjI3xhSTD_4kbLYH00TVIkbRPcs"
    "Q2We0rPBwAWInjA9t7raf_MlEHjZIBCQX2y1rrp82yaojreQptslWQiUW5jTwi47mgT_"
    "D5ysJMYb2iMK6JYTrIXuHDyBOvPrQkhc8dpeaVoGijXFmH4A1JVJE5EushtQmMnGmeIo"
    "sOcmOybwfb3EWmAjbu3O3uPhLvS-IUl3vgo36-chywFDzuCP-YbwxG8Vv63y1c3JVdEY"
    "jJlP0eReihXZ-cAatQqPd8tl6NQ\",\"e\":\"AQAB\",\"d\":\"D0TnqhMHrXxotV7"
    "aTbffhDfeql5CTZr_ovzZUy9cp25ZnxffVW_u4GBa9ZpYxvwLw2rp85EuiX16VeHKBIF"
    "QqZEtTU8aB1xDUYCrdonlS-5Qx0-jP9xiklu__mvMfLJNRzlvrq_At7o8xo5qjNmwpKB"
    "79TFz4VaRa3W7Xi9475G-ssKlUUfRdfQDamUoQD2HQ-6ftglqmE5bCGaZZBLERLDRGFU"
    "NkbHPDoLwHNQoNj78ba48zrYqUQeZtdXRgCJIsKreQat6iC3KdJWSguxN7Cdpjhxkdgm"
    "FBtx5HSBJM8kLDVpaMTKEVCk3rHZC-dKVzwftBn8-k1jVbNmz-EVVIQ\",\"p\":\"-5"
    "5cs62eHCYe-ZUF3GAnEjTrqKAr2XRP11yN27eMtlYdPKpw-GLsuKlxio5U51fdrGqz_0"
    "9lQTwkoMpVwJYsZPFTts0AMjxzbWmoZ_ccjYMLl9FLZyuaKIjcIj0iGGI8egzPZGBkhl"
    "4s0MlAygyXsZw-c0T1TPr83G_JFnmdaGk\",\"q\":\"xfZWe04GXaX-s9plyuUSi_FN"
    "EeP2MtH4Ekr9hHmRn_ziNcs3vnzHo6OnGbPL_Dcz4LexhkLRzqcSVNvWy0RYyLspn3ro"
    "MqWpTKFxFfk0I3RQUPJSB4Od4qmrE2eGYwhlinBnNaB2iKWYjbGLeUB7uDRrE44kdMZz"
    "wFBI5L5PKe0\",\"dp\":\"M17NhlF36j9OK55lJ-zpjSoIwtCQo0C_3DQlMipzK_bA2"
    "VXi4pMvyTOu3p7YbrLdqwnN3d4TyhHBWKJ2h28heSpb8QJBfAAjgL8FhtRInAuZHlG4l"
    "0OroYLvjn30rA3CUxiybsfPPi-T7rxn4dhYUAaaKWZ2vlSvs0GPSGtj26E\",\"dq\":"
    "\"LUIHPYN2ExzrISUyFnPOjK3rB8cNN0snos8ALLQ6ZdBDyzadlPAkGDZG8qpXXV8lfh"
    "-g92f5XXx2xW3JKomCnsmjV3Ga-lFDZmCWYQarM9vYrNjphgxCIVrW4MXPRH7b8A2Imw"
    "sHbnAlc2d-0oa6gj-Bp2Pc09G3DuWL9LfJk3U\",\"qi\":\"UqRqKxKz-ByHk7SZ0nB"
    "fk6jfwUKoKomPuCbZx5jRDIpkCaur3DshPMOqOuwCoOoqVWnLKJ5SI_Hxx4ON56fpKmo"
    "iryX2DZtlPIGvXfNOe0_FRrTUzkiW1dvL18JvlAez07jVxZJbrpilxdCbarlzImj4mb7"
    "zjOpzXOBeom6UHfs\"}";


#endif /* _JWS_TEST_KEYS_H_INCLUDED_ */
