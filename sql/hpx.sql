-- HEALPix spatial functions: NESTED order-29 pixel index, distances, and the
-- index-driven radial, ellipse and polygon queries (Q3C's argument order and units).
--
-- Plain SQL and PL/pgSQL only, so the functions run on any PostgreSQL >= 15 without an
-- extension. Installed into schema public by the migrations; re-running this file is
-- harmless (every statement is CREATE OR REPLACE).
--
-- Conventions: angles in degrees (ICRS), pixel numbers are NESTED order 29 (the value
-- healpy.ang2pix(2**29, ra, dec, nest=True, lonlat=True) returns). Functions whose name
-- starts with "_hpx_" are private building blocks of the public ones. Sections: pixel
-- math, distances, disc cover, queries.

-- =================================================================================
-- Pixel math
-- =================================================================================

-- Raises an error with the given message. Called only from the branch of a CASE whose
-- condition detected an impossible argument, so valid calls never pay for a PL/pgSQL
-- call. Declared IMMUTABLE so the functions that use it stay IMMUTABLE.
CREATE OR REPLACE FUNCTION public._hpx_raise(message text, result_type anyelement)
RETURNS anyelement LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = message;
END
$$;
COMMENT ON FUNCTION public._hpx_raise(text, anyelement) IS
    'Private: raise invalid_parameter_value with MESSAGE; result_type (a typed NULL) only '
    'gives the result type of the expression the call stands in.';

-- A NESTED pixel number is the face number above the Morton interleave of the pixel's
-- face-local cell (x, y): bit i of x is bit 2i, bit i of y bit 2i + 1. The interleave
-- and its inverse go a byte at a time through two tables of 256 constants: inlined into
-- their PL/pgSQL callers, the lookups cost less than rounds of shifts and masks run as
-- separate statements. (The tables are functions of the byte, not constant functions:
-- the planner would run those through the SQL executor instead of inlining them.)

-- The byte interleaving the nibbles of xy = xn | yn << 4: xn to its even bits, yn to its
-- odd bits.
CREATE OR REPLACE FUNCTION public._hpx_morton_byte(xy bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ('{  0,   1,   4,   5,  16,  17,  20,  21,  64,  65,  68,  69,  80,  81,  84,  85,
            2,   3,   6,   7,  18,  19,  22,  23,  66,  67,  70,  71,  82,  83,  86,  87,
            8,   9,  12,  13,  24,  25,  28,  29,  72,  73,  76,  77,  88,  89,  92,  93,
           10,  11,  14,  15,  26,  27,  30,  31,  74,  75,  78,  79,  90,  91,  94,  95,
           32,  33,  36,  37,  48,  49,  52,  53,  96,  97, 100, 101, 112, 113, 116, 117,
           34,  35,  38,  39,  50,  51,  54,  55,  98,  99, 102, 103, 114, 115, 118, 119,
           40,  41,  44,  45,  56,  57,  60,  61, 104, 105, 108, 109, 120, 121, 124, 125,
           42,  43,  46,  47,  58,  59,  62,  63, 106, 107, 110, 111, 122, 123, 126, 127,
          128, 129, 132, 133, 144, 145, 148, 149, 192, 193, 196, 197, 208, 209, 212, 213,
          130, 131, 134, 135, 146, 147, 150, 151, 194, 195, 198, 199, 210, 211, 214, 215,
          136, 137, 140, 141, 152, 153, 156, 157, 200, 201, 204, 205, 216, 217, 220, 221,
          138, 139, 142, 143, 154, 155, 158, 159, 202, 203, 206, 207, 218, 219, 222, 223,
          160, 161, 164, 165, 176, 177, 180, 181, 224, 225, 228, 229, 240, 241, 244, 245,
          162, 163, 166, 167, 178, 179, 182, 183, 226, 227, 230, 231, 242, 243, 246, 247,
          168, 169, 172, 173, 184, 185, 188, 189, 232, 233, 236, 237, 248, 249, 252, 253,
          170, 171, 174, 175, 186, 187, 190, 191, 234, 235, 238, 239, 250, 251, 254, 255}'::bigint[])[xy + 1]
$$;
COMMENT ON FUNCTION public._hpx_morton_byte(bigint) IS
    'Private: the byte with the bits of nibble xy & 15 at its even and those of xy >> 4 at '
    'its odd positions (xy in [0, 256)).';

-- xn | yn << 32: the even bits of the byte b packed into xn, its odd bits into yn.
CREATE OR REPLACE FUNCTION public._hpx_unmorton_byte(b bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ('{          0,           1,  4294967296,  4294967297,           2,           3,  4294967298,  4294967299,
           8589934592,  8589934593, 12884901888, 12884901889,  8589934594,  8589934595, 12884901890, 12884901891,
                    4,           5,  4294967300,  4294967301,           6,           7,  4294967302,  4294967303,
           8589934596,  8589934597, 12884901892, 12884901893,  8589934598,  8589934599, 12884901894, 12884901895,
          17179869184, 17179869185, 21474836480, 21474836481, 17179869186, 17179869187, 21474836482, 21474836483,
          25769803776, 25769803777, 30064771072, 30064771073, 25769803778, 25769803779, 30064771074, 30064771075,
          17179869188, 17179869189, 21474836484, 21474836485, 17179869190, 17179869191, 21474836486, 21474836487,
          25769803780, 25769803781, 30064771076, 30064771077, 25769803782, 25769803783, 30064771078, 30064771079,
                    8,           9,  4294967304,  4294967305,          10,          11,  4294967306,  4294967307,
           8589934600,  8589934601, 12884901896, 12884901897,  8589934602,  8589934603, 12884901898, 12884901899,
                   12,          13,  4294967308,  4294967309,          14,          15,  4294967310,  4294967311,
           8589934604,  8589934605, 12884901900, 12884901901,  8589934606,  8589934607, 12884901902, 12884901903,
          17179869192, 17179869193, 21474836488, 21474836489, 17179869194, 17179869195, 21474836490, 21474836491,
          25769803784, 25769803785, 30064771080, 30064771081, 25769803786, 25769803787, 30064771082, 30064771083,
          17179869196, 17179869197, 21474836492, 21474836493, 17179869198, 17179869199, 21474836494, 21474836495,
          25769803788, 25769803789, 30064771084, 30064771085, 25769803790, 25769803791, 30064771086, 30064771087,
          34359738368, 34359738369, 38654705664, 38654705665, 34359738370, 34359738371, 38654705666, 38654705667,
          42949672960, 42949672961, 47244640256, 47244640257, 42949672962, 42949672963, 47244640258, 47244640259,
          34359738372, 34359738373, 38654705668, 38654705669, 34359738374, 34359738375, 38654705670, 38654705671,
          42949672964, 42949672965, 47244640260, 47244640261, 42949672966, 42949672967, 47244640262, 47244640263,
          51539607552, 51539607553, 55834574848, 55834574849, 51539607554, 51539607555, 55834574850, 55834574851,
          60129542144, 60129542145, 64424509440, 64424509441, 60129542146, 60129542147, 64424509442, 64424509443,
          51539607556, 51539607557, 55834574852, 55834574853, 51539607558, 51539607559, 55834574854, 55834574855,
          60129542148, 60129542149, 64424509444, 64424509445, 60129542150, 60129542151, 64424509446, 64424509447,
          34359738376, 34359738377, 38654705672, 38654705673, 34359738378, 34359738379, 38654705674, 38654705675,
          42949672968, 42949672969, 47244640264, 47244640265, 42949672970, 42949672971, 47244640266, 47244640267,
          34359738380, 34359738381, 38654705676, 38654705677, 34359738382, 34359738383, 38654705678, 38654705679,
          42949672972, 42949672973, 47244640268, 47244640269, 42949672974, 42949672975, 47244640270, 47244640271,
          51539607560, 51539607561, 55834574856, 55834574857, 51539607562, 51539607563, 55834574858, 55834574859,
          60129542152, 60129542153, 64424509448, 64424509449, 60129542154, 60129542155, 64424509450, 64424509451,
          51539607564, 51539607565, 55834574860, 55834574861, 51539607566, 51539607567, 55834574862, 55834574863,
          60129542156, 60129542157, 64424509452, 64424509453, 60129542158, 60129542159, 64424509454, 64424509455}'::bigint[])[b + 1]
$$;
COMMENT ON FUNCTION public._hpx_unmorton_byte(bigint) IS
    'Private: xn | yn << 32, the even bits of the byte b packed into xn and its odd bits '
    'into yn (b in [0, 256)).';

-- Morton interleave of the face-local cell (x, y), x and y < 2^29.
CREATE OR REPLACE FUNCTION public._hpx_morton(x bigint, y bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT public._hpx_morton_byte((x & 15) | ((y & 15) << 4))
       | (public._hpx_morton_byte((x >> 4 & 15) | ((y >> 4 & 15) << 4)) << 8)
       | (public._hpx_morton_byte((x >> 8 & 15) | ((y >> 8 & 15) << 4)) << 16)
       | (public._hpx_morton_byte((x >> 12 & 15) | ((y >> 12 & 15) << 4)) << 24)
       | (public._hpx_morton_byte((x >> 16 & 15) | ((y >> 16 & 15) << 4)) << 32)
       | (public._hpx_morton_byte((x >> 20 & 15) | ((y >> 20 & 15) << 4)) << 40)
       | (public._hpx_morton_byte((x >> 24 & 15) | ((y >> 24 & 15) << 4)) << 48)
       | (public._hpx_morton_byte((x >> 28 & 15) | ((y >> 28 & 15) << 4)) << 56)
$$;
COMMENT ON FUNCTION public._hpx_morton(bigint, bigint) IS
    'Private: Morton interleave of the face-local cell (x, y): bit i of x to bit 2i, bit i '
    'of y to bit 2i + 1.';

-- The inverse, x | y << 32, of the bits of an order-29 pixel number below its face.
CREATE OR REPLACE FUNCTION public._hpx_unmorton(ipix bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT public._hpx_unmorton_byte(ipix & 255)
       | (public._hpx_unmorton_byte(ipix >> 8 & 255) << 4)
       | (public._hpx_unmorton_byte(ipix >> 16 & 255) << 8)
       | (public._hpx_unmorton_byte(ipix >> 24 & 255) << 12)
       | (public._hpx_unmorton_byte(ipix >> 32 & 255) << 16)
       | (public._hpx_unmorton_byte(ipix >> 40 & 255) << 20)
       | (public._hpx_unmorton_byte(ipix >> 48 & 255) << 24)
       | (public._hpx_unmorton_byte(ipix >> 56 & 3) << 28)
$$;
COMMENT ON FUNCTION public._hpx_unmorton(bigint) IS
    'Private: face-local cell x | y << 32 of an order-29 NESTED pixel number (the inverse '
    'of _hpx_morton, below the face number).';

-- Position (degrees) -> NESTED order-29 pixel, the same arithmetic, in the same order,
-- as HEALPix C++ T_Healpix_Base::loc2pix behind healpy.ang2pix(nest=True, lonlat=True),
-- so the result equals healpy's bit for bit: theta = pi/2 - radians(dec), z = cos(theta),
-- tt = phi / (pi/2) modulo 4, then the equatorial (|z| <= 2/3) or polar-cap formulas
-- give the face and the (x, y) cell.
-- PL/pgSQL rather than one SQL statement: its simple expressions run without planning.
CREATE OR REPLACE FUNCTION public.hpx_ang2ipix(ra_deg float8, dec_deg float8)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    nside CONSTANT float8 := 536870912;      -- 2^29
    theta float8;
    v float8;
    fm float8;
    tt float8;
    z float8;
    za float8;
    tmp float8;
    tp float8;
    jp bigint;
    jm bigint;
    ntt int;
    face bigint;
    x bigint;
    y bigint;
BEGIN
    IF ra_deg = 'NaN'::float8 OR dec_deg = 'NaN'::float8
       OR ra_deg IN ('Infinity'::float8, '-Infinity'::float8) THEN
        RETURN NULL;
    END IF;
    IF NOT dec_deg BETWEEN -90 AND 90 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('dec must be in [-90, 90] degrees, got %s', dec_deg);
    END IF;
    theta := pi() / 2 - radians(dec_deg);
    v := radians(ra_deg) * 0.6366197723675813430755350534900574::float8;  -- phi / (pi/2)
    -- fmodulo(v, 4): v - 4 trunc(v/4) is exact, like C fmod.
    IF v >= 0 THEN
        tt := CASE WHEN v < 4 THEN v ELSE v - 4 * trunc(v / 4) END;
    ELSE
        fm := (v - 4 * trunc(v / 4)) + 4;
        tt := CASE WHEN fm = 4 THEN 0 ELSE fm END;
    END IF;
    z := cos(theta);
    za := abs(z);
    IF za <= 2::float8 / 3 THEN
        -- Equatorial region: indices of the ascending and descending edge lines.
        jp := trunc(nside * (0.5::float8 + tt) - nside * (z * 0.75::float8))::bigint;
        jm := trunc(nside * (0.5::float8 + tt) + nside * (z * 0.75::float8))::bigint;
        face := CASE WHEN jp >> 29 = jm >> 29 THEN (jp >> 29) | 4
                     WHEN jp >> 29 < jm >> 29 THEN jp >> 29
                     ELSE (jm >> 29) + 8 END;
        x := jm & 536870911;
        y := 536870911 - (jp & 536870911);
    ELSE
        -- Polar caps; near the poles sin(theta) keeps the precision 1 - |z| loses.
        ntt := least(3, trunc(tt)::int);
        tp := tt - ntt;
        IF za < 0.99::float8 OR NOT (theta < 0.01::float8 OR theta > 3.14159::float8 - 0.01::float8) THEN
            tmp := nside * sqrt(3 * (1 - za));
        ELSE
            tmp := nside * sin(theta) / sqrt((1 + za) / 3);
        END IF;
        jp := least(trunc(tp * tmp)::bigint, 536870911);
        jm := least(trunc((1 - tp) * tmp)::bigint, 536870911);
        IF z >= 0 THEN
            face := ntt;
            x := 536870911 - jm;
            y := 536870911 - jp;
        ELSE
            face := ntt + 8;
            x := jp;
            y := jm;
        END IF;
    END IF;
    RETURN (face << 58) + public._hpx_morton(x, y);
END
$$;
COMMENT ON FUNCTION public.hpx_ang2ipix(float8, float8) IS
    'NESTED HEALPix order-29 pixel of (ra_deg, dec_deg) in degrees; equals healpy.ang2pix('
    '2**29, ra, dec, nest=True, lonlat=True). NULL or NaN in gives NULL; |dec| > 90 is an error.';

-- NESTED order-29 pixel -> centre (ra, dec) in degrees, as HEALPix C++ pix2loc.
CREATE OR REPLACE FUNCTION public.hpx_ipix2ang(ipix bigint)
RETURNS float8[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    nside CONSTANT bigint := 536870912;
    fact2 CONSTANT float8 := 4::float8 / 3458764513820540928::float8;  -- 4 / npix
    face int;
    x bigint;
    y bigint;
    jr bigint;
    nr bigint;
    t bigint;
    z float8;
    sth float8;
    phi float8;
BEGIN
    IF NOT ipix BETWEEN 0 AND 3458764513820540927 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('ipix must be in [0, 12 * 4^29 - 1], got %s', ipix);
    END IF;
    face := (ipix >> 58)::int;
    x := public._hpx_unmorton(ipix);
    y := x >> 32;
    x := x & 536870911;
    jr := ((ARRAY[2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4])[face + 1]::bigint << 29) - x - y - 1;
    IF jr < nside THEN
        nr := jr;
        z := 1 - (nr * nr) * fact2;
        sth := sqrt(((nr * nr) * fact2) * (2 - (nr * nr) * fact2));
    ELSIF jr > 3 * nside THEN
        nr := 4 * nside - jr;
        z := (nr * nr) * fact2 - 1;
        sth := sqrt(((nr * nr) * fact2) * (2 - (nr * nr) * fact2));
    ELSE
        nr := nside;
        z := (2 * nside - jr) * (2 * nside * fact2);
        sth := sqrt((1 - z) * (1 + z));
    END IF;
    t := (ARRAY[1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7])[face + 1]::bigint * nr + x - y;
    IF t < 0 THEN
        t := t + 8 * nr;
    END IF;
    IF nr = nside THEN
        phi := 0.75::float8 * (pi() / 2) * t * (2 * nside * fact2);
    ELSE
        phi := (0.5::float8 * (pi() / 2) * t) / nr;
    END IF;
    RETURN ARRAY[degrees(phi), degrees(atan2(z, sth))];
END
$$;
COMMENT ON FUNCTION public.hpx_ipix2ang(bigint) IS
    'Centre {ra, dec} in degrees of a NESTED HEALPix order-29 pixel (as healpy.pix2ang(2**29, '
    'ipix, nest=True, lonlat=True)); ipix outside [0, 12*4^29) is an error.';

-- NESTED pixel at order k of the face-local cell (ix, iy) of `face`, moved by (dx, dy)
-- cells, across face edges as HEALPix C++ T_Healpix_Base::neighbors does; -1 where no
-- such pixel exists (the missing diagonal where only three pixels meet).
CREATE OR REPLACE FUNCTION public._hpx_xyf_step(face int, ix bigint, iy bigint, dx int, dy int,
                                                k int)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    nside bigint := 1::bigint << k;
    x bigint := ix + dx;
    y bigint := iy + dy;
    nb int := 4;
    f int;
    bits int;
    t bigint;
BEGIN
    IF x < 0 THEN
        x := x + nside;
        nb := nb - 1;
    ELSIF x >= nside THEN
        x := x - nside;
        nb := nb + 1;
    END IF;
    IF y < 0 THEN
        y := y + nside;
        nb := nb - 3;
    ELSIF y >= nside THEN
        y := y - nside;
        nb := nb + 3;
    END IF;
    -- facearray[nb][face] and swaparray[nb][face / 4] of HEALPix C++, row by row.
    f := (ARRAY[8, 9, 10, 11, -1, -1, -1, -1, 10, 11, 8, 9,
                5, 6, 7, 4, 8, 9, 10, 11, 9, 10, 11, 8,
                -1, -1, -1, -1, 5, 6, 7, 4, -1, -1, -1, -1,
                4, 5, 6, 7, 11, 8, 9, 10, 11, 8, 9, 10,
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                1, 2, 3, 0, 0, 1, 2, 3, 5, 6, 7, 4,
                -1, -1, -1, -1, 7, 4, 5, 6, -1, -1, -1, -1,
                3, 0, 1, 2, 3, 0, 1, 2, 4, 5, 6, 7,
                2, 3, 0, 1, -1, -1, -1, -1, 0, 1, 2, 3])[nb * 12 + face + 1];
    IF f < 0 THEN
        RETURN -1;
    END IF;
    bits := (ARRAY[0, 0, 3, 0, 0, 6, 0, 0, 0, 0, 0, 5, 0, 0, 0,
                   5, 0, 0, 0, 0, 0, 6, 0, 0, 3, 0, 0])[nb * 3 + face / 4 + 1];
    IF bits & 1 <> 0 THEN
        x := nside - x - 1;
    END IF;
    IF bits & 2 <> 0 THEN
        y := nside - y - 1;
    END IF;
    IF bits & 4 <> 0 THEN
        t := x;
        x := y;
        y := t;
    END IF;
    RETURN (f::bigint << (2 * k)) + public._hpx_morton(x, y);
END
$$;
COMMENT ON FUNCTION public._hpx_xyf_step(int, bigint, bigint, int, int, int) IS
    'Private: NESTED pixel at order k reached from cell (ix, iy) of face by (dx, dy) cells, '
    'across face edges as HEALPix neighbours are; -1 where none exists.';

-- =================================================================================
-- Distances
-- =================================================================================

-- Great-circle distance by the Vincenty formula (atan2 of the cross and dot products):
-- full double precision from milliarcseconds to 180 degrees, unlike acos (poor near 0)
-- or the haversine (poor near 180).
CREATE OR REPLACE FUNCTION public.hpx_dist(ra1_deg float8, dec1_deg float8,
                                           ra2_deg float8, dec2_deg float8)
RETURNS float8 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT degrees(atan2(
    sqrt(power(cos(radians(dec2_deg)) * sin(radians(ra2_deg - ra1_deg)), 2)
         + power(cos(radians(dec1_deg)) * sin(radians(dec2_deg))
                 - sin(radians(dec1_deg)) * cos(radians(dec2_deg)) * cos(radians(ra2_deg - ra1_deg)), 2)),
    sin(radians(dec1_deg)) * sin(radians(dec2_deg))
        + cos(radians(dec1_deg)) * cos(radians(dec2_deg)) * cos(radians(ra2_deg - ra1_deg))))
$$;
COMMENT ON FUNCTION public.hpx_dist(float8, float8, float8, float8) IS
    'Great-circle distance [deg] between (ra1_deg, dec1_deg) and (ra2_deg, dec2_deg) [deg].';

-- sin^2(d/2) of the distance d between two positions, as Q3C's q3c_sindist evaluates it
-- (haversine x*(z-y)+y with x = sin^2(dra/2), y = sin^2(ddec/2), z = cos^2(mean dec)),
-- operation for operation, so that points exactly on a search circle fall on the same
-- side as in Q3C. Symmetric in its two positions bit for bit (sin is odd).
CREATE OR REPLACE FUNCTION public._hpx_sindist(ra1 float8, dec1 float8, ra2 float8, dec2 float8)
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT sin((ra1 - ra2) / 2 * 0.017453292519943295::float8)
       * sin((ra1 - ra2) / 2 * 0.017453292519943295::float8)
       * (cos((dec1 + dec2) / 2 * 0.017453292519943295::float8)
          * cos((dec1 + dec2) / 2 * 0.017453292519943295::float8)
          - sin((dec1 - dec2) / 2 * 0.017453292519943295::float8)
            * sin((dec1 - dec2) / 2 * 0.017453292519943295::float8))
       + sin((dec1 - dec2) / 2 * 0.017453292519943295::float8)
         * sin((dec1 - dec2) / 2 * 0.017453292519943295::float8)
$$;
COMMENT ON FUNCTION public._hpx_sindist(float8, float8, float8, float8) IS
    'Private: sin^2(d/2) of the great-circle distance d between two positions [deg], '
    'evaluated as Q3C does.';

-- =================================================================================
-- Disc cover: the hpx ranges that hold a disc
-- =================================================================================
--
-- Near cover, at most four pixels, for small discs and cross-matches. A disc of radius r
-- moves a point's continuous face coordinates (x, y) at order k by at most J * 2^k * r
-- (r in radians) on each axis, with J = 2.5 (equatorial zone: 1.61; polar caps at polar
-- distance >= 2r: 2.44). At the order k where that margin e is at most 1/8 of a pixel,
-- the disc lies in the centre's pixel, its neighbour across the x edge and/or the y edge
-- the centre is within e of, and the diagonal neighbour between them (absent where only
-- three pixels meet, and then not needed). Within 2r of a pole the disc lies in the four
-- pixels around the pole. Each of the four slots is one such pixel or empty (NULL
-- bounds). Slot 0 is the centre's pixel (_hpx_near_bound0: hpx_ang2ipix shifted); slots
-- 1..3 are _hpx_near_bound calls that a pure-SQL test of the centre's distance to its
-- pixel's edges (_hpx_near_gate) answers without computing a pixel for most centres, so
-- a cross-match probes at most four ranges, and mostly one.
--
-- Fine cover, up to 40 ranges close to the disc, for larger cones (_hpx_disc_cover).

-- True for a possible disc (ra0, dec0, radius_deg), else an error saying what is wrong.
-- Inlined into its callers, so the messages are built with immutable text casts (format()
-- is only stable, which would keep the planner from inlining the function).
CREATE OR REPLACE FUNCTION public._hpx_check_disc(ra0 float8, dec0 float8, radius_deg float8)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN NOT (radius_deg >= 0 AND radius_deg < 'Infinity'::float8) THEN public._hpx_raise(
        'radius must be a finite number >= 0 degrees, got ' || radius_deg::text, NULL::boolean)
    WHEN NOT dec0 BETWEEN -90 AND 90 THEN public._hpx_raise(
        'dec must be in [-90, 90] degrees, got ' || dec0::text, NULL::boolean)
    WHEN NOT (ra0 > '-Infinity'::float8 AND ra0 < 'Infinity'::float8) THEN public._hpx_raise(
        'ra must be a finite number of degrees, got ' || ra0::text, NULL::boolean)
    ELSE true
END
$$;
COMMENT ON FUNCTION public._hpx_check_disc(float8, float8, float8) IS
    'Private: true for a possible disc (ra0, dec0, radius_deg [deg]), else an error saying '
    'what is wrong.';

-- Order of the near cover: the finest k with 2^k * 2.5 * r <= 1/8; -1 = whole sky.
CREATE OR REPLACE FUNCTION public._hpx_near_order(radius_deg float8)
RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN radius_deg <= 0 THEN 29
            WHEN radius_deg >= degrees(0.05::float8) THEN -1
            ELSE least(29, floor(ln(0.05::float8 / radians(radius_deg)) / ln(2::float8))::int)
       END
$$;
COMMENT ON FUNCTION public._hpx_near_order(float8) IS
    'Private: HEALPix order of the near cover of a disc of radius_deg [deg]; -1 = whole sky.';

-- Bits below the near order in an order-29 pixel number: 2 (29 - k). PL/pgSQL, so a
-- constant radius folds it at plan time without a body to inline.
CREATE OR REPLACE FUNCTION public._hpx_near_shift(radius_deg float8)
RETURNS int LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN 58 - 2 * public._hpx_near_order(radius_deg);
END
$$;
COMMENT ON FUNCTION public._hpx_near_shift(float8) IS
    'Private: 2 (29 - k) for the near order k of a disc of radius_deg [deg].';

-- Order-k pixel of near slot `slot` (0..3) of a disc, or -1 for an empty slot.
CREATE OR REPLACE FUNCTION public._hpx_near_pixel(ra0 float8, dec0 float8, radius_deg float8,
                                                  k int, slot int)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    s int := 29 - k;
    p bigint;
    x bigint;
    y bigint;
    e float8;
    fx float8;
    fy float8;
    dx int := 0;
    dy int := 0;
BEGIN
    IF k < 0 THEN
        RETURN CASE WHEN slot = 0 THEN 0 ELSE -1 END;
    END IF;
    IF 90 - abs(dec0) < 2 * radius_deg THEN
        -- The four pixels around the pole: corner (nside-1, nside-1) of faces 0..3 in the
        -- north, corner (0, 0) of faces 8..11 in the south.
        RETURN CASE WHEN dec0 > 0 THEN ((slot + 1)::bigint << (2 * k)) - 1
                    ELSE (slot + 8)::bigint << (2 * k) END;
    END IF;
    p := public.hpx_ang2ipix(ra0, dec0);
    IF slot = 0 THEN
        RETURN p >> (2 * s);
    END IF;
    x := public._hpx_unmorton(p);
    y := x >> 32;
    x := x & 536870911;
    -- Position in the order-k cell, and the margin, in cells (plus rounding room).
    fx := ((x & ((1::bigint << s) - 1)) + 0.5::float8) / (1::bigint << s);
    fy := ((y & ((1::bigint << s) - 1)) + 0.5::float8) / (1::bigint << s);
    e := (1::bigint << k) * 2.5::float8 * radians(radius_deg) + 1e-7;
    dx := CASE WHEN fx < e THEN -1 WHEN fx > 1 - e THEN 1 ELSE 0 END;
    dy := CASE WHEN fy < e THEN -1 WHEN fy > 1 - e THEN 1 ELSE 0 END;
    IF (slot = 1 AND dx = 0) OR (slot = 2 AND dy = 0) OR (slot = 3 AND (dx = 0 OR dy = 0)) THEN
        RETURN -1;
    END IF;
    RETURN public._hpx_xyf_step((p >> 58)::int, x >> s, y >> s,
                                CASE WHEN slot = 2 THEN 0 ELSE dx END,
                                CASE WHEN slot = 1 THEN 0 ELSE dy END, k);
END
$$;
COMMENT ON FUNCTION public._hpx_near_pixel(float8, float8, float8, int, int) IS
    'Private: NESTED order-k pixel of near-cover slot SLOT (0..3) of the disc (ra0, dec0, '
    'radius_deg [deg]), or -1 when the slot is empty.';

-- False only when near slot `slot` (1..3) at order k is certainly empty: slot 1 needs
-- the centre close to an x edge of its order-k pixel, slot 2 to a y edge, slot 3 to both.
-- One expression on the centre's continuous face coordinates (equatorial zone: u, v =
-- 2^k (1/2 + ra/90 -+ 3/4 sin dec) for y and x; polar caps: t c and (1 - t) c with
-- t = frac(ra/90), c = 2^k sqrt(6) sin(polar distance / 2), for either axis), so that
-- _hpx_near_bound answers most neighbour slots of a cross-match without computing the
-- centre's pixel. The margin adds to _hpx_near_pixel's one order-29 pixel (its
-- coordinates come from the centre's order-29 pixel) and rounding room; near the zone
-- boundary and the poles the gate is always open.
CREATE OR REPLACE FUNCTION public._hpx_near_gate(ra0 float8, dec0 float8, radius_deg float8,
                                                 k int, slot int)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN k < 0 OR 90 - abs(dec0) < 2 * radius_deg
         OR abs(sin(radians(dec0))) BETWEEN 0.666 AND 0.6675 THEN true
    WHEN abs(sin(radians(dec0))) < 0.666 THEN
        (slot = 2 OR abs(power(2::float8, k) * (0.5 + ra0 / 90 + 0.75 * sin(radians(dec0)))
                         - round(power(2::float8, k)
                                 * (0.5 + ra0 / 90 + 0.75 * sin(radians(dec0)))))
                     < power(2::float8, k) * (2.5 * radians(radius_deg) + 2::float8 ^ -29) + 1e-6)
        AND (slot = 1 OR abs(power(2::float8, k) * (0.5 + ra0 / 90 - 0.75 * sin(radians(dec0)))
                             - round(power(2::float8, k)
                                     * (0.5 + ra0 / 90 - 0.75 * sin(radians(dec0)))))
                         < power(2::float8, k) * (2.5 * radians(radius_deg) + 2::float8 ^ -29)
                           + 1e-6)
    ELSE
        abs((ra0 / 90 - floor(ra0 / 90)) * power(2::float8, k)
            * 2.449489742783178::float8 * sin(radians(90 - abs(dec0)) / 2)
            - round((ra0 / 90 - floor(ra0 / 90)) * power(2::float8, k)
                    * 2.449489742783178::float8 * sin(radians(90 - abs(dec0)) / 2)))
        < power(2::float8, k) * (2.5 * radians(radius_deg) + 2::float8 ^ -29) + 1e-6
        OR abs((1 - (ra0 / 90 - floor(ra0 / 90))) * power(2::float8, k)
               * 2.449489742783178::float8 * sin(radians(90 - abs(dec0)) / 2)
               - round((1 - (ra0 / 90 - floor(ra0 / 90))) * power(2::float8, k)
                       * 2.449489742783178::float8 * sin(radians(90 - abs(dec0)) / 2)))
           < power(2::float8, k) * (2.5 * radians(radius_deg) + 2::float8 ^ -29) + 1e-6
END
$$;
COMMENT ON FUNCTION public._hpx_near_gate(float8, float8, float8, int, int) IS
    'Private: false only when near-cover slot SLOT (1..3) at order K of the disc (ra0, dec0 '
    '[deg], radius_deg [deg]) is empty.';

-- Lower (upper = false) or upper hpx bound of near slot `slot`; NULL when the slot is
-- empty: with constant arguments the range then folds to NULL and leaves the WHERE
-- clause, and in a join an index probe with a NULL bound reads nothing. Slot 0 away
-- from the poles is the centre's pixel, computed here without calling _hpx_near_pixel:
-- this runs once per range bound and outer row of a cross-match.
CREATE OR REPLACE FUNCTION public._hpx_near_bound(ra0 float8, dec0 float8, radius_deg float8,
                                                  slot int, upper boolean)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    k int := CASE WHEN public._hpx_check_disc(ra0, dec0, radius_deg)
                  THEN public._hpx_near_order(radius_deg) END;
    p bigint;
BEGIN
    IF k < 0 THEN
        RETURN CASE WHEN slot > 0 THEN NULL WHEN upper THEN 3458764513820540927 ELSE 0 END;
    END IF;
    IF slot > 0 AND NOT public._hpx_near_gate(ra0, dec0, radius_deg, k, slot) THEN
        RETURN NULL;
    END IF;
    IF slot = 0 AND NOT 90 - abs(dec0) < 2 * radius_deg THEN
        p := public.hpx_ang2ipix(ra0, dec0) >> (2 * (29 - k));
    ELSE
        p := public._hpx_near_pixel(ra0, dec0, radius_deg, k, slot);
    END IF;
    RETURN CASE WHEN p < 0 THEN NULL
                WHEN upper THEN ((p + 1) << (2 * (29 - k))) - 1
                ELSE p << (2 * (29 - k)) END;
END
$$;
COMMENT ON FUNCTION public._hpx_near_bound(float8, float8, float8, int, boolean) IS
    'Private: lower (upper = false) or upper hpx bound of near-cover slot SLOT (0..3) of the '
    'disc (ra0, dec0 [deg], radius_deg [deg]); NULL for an empty slot. Errors on an '
    'impossible disc.';

-- Lower (upper = false) or upper hpx bound of near slot 0, the centre's pixel: for a
-- possible disc of at most 0.03 deg away from the poles, the order-29 pixel of the centre
-- shifted to the near order, with no PL/pgSQL call but hpx_ang2ipix's, as a cross-match
-- evaluates it for every outer row; otherwise _hpx_near_bound (which also raises the
-- errors of an impossible disc).
CREATE OR REPLACE FUNCTION public._hpx_near_bound0(ra0 float8, dec0 float8, radius_deg float8,
                                                   upper boolean)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN radius_deg >= 0 AND radius_deg <= 0.03 AND dec0 BETWEEN -90 AND 90
         AND NOT 90 - abs(dec0) < 2 * radius_deg
         AND ra0 > '-Infinity'::float8 AND ra0 < 'Infinity'::float8
    THEN ((public.hpx_ang2ipix(ra0, dec0) >> public._hpx_near_shift(radius_deg))
          << public._hpx_near_shift(radius_deg))
         + CASE WHEN upper THEN (1::bigint << public._hpx_near_shift(radius_deg)) - 1
                ELSE 0 END
    ELSE public._hpx_near_bound(ra0, dec0, radius_deg, 0, upper)
END
$$;
COMMENT ON FUNCTION public._hpx_near_bound0(float8, float8, float8, boolean) IS
    'Private: lower (upper = false) or upper hpx bound of near-cover slot 0 of the disc '
    '(ra0, dec0 [deg], radius_deg [deg]). Errors on an impossible disc.';

-- Fine cover: the near pixels are split down to the order whose pixels are about half
-- the radius across: a pixel whose centre is farther than the radius plus the pixel's
-- radius is dropped, one whose centre is nearer than the radius minus the pixel's radius
-- is kept whole, the others are split (kept whole at the last order). HEALPix pixel radii
-- are at most 61.25 deg / 2^order; 62 deg is used, plus two order-29 pixels because the
-- centre is taken from the order-29 descendant at the middle of the pixel. Adjacent
-- ranges are joined, then the smallest gaps until at most 40 ranges remain.
CREATE OR REPLACE FUNCTION public._hpx_disc_cover(ra0 float8, dec0 float8, radius_deg float8)
RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
DECLARE
    max_ranges CONSTANT int := 40;
    k int;
    last_order int;
    m int;
    cur bigint[] := '{}';
    nxt bigint[];
    out_lo bigint[] := '{}';
    out_hi bigint[] := '{}';
    p bigint;
    s int;
    q float8[];
    d float8;
    pixrad float8;
    cut bigint;
    lo bigint[];
    hi bigint[];
    result bigint[] := '{}';
BEGIN
    PERFORM public._hpx_check_disc(ra0, dec0, radius_deg);
    k := public._hpx_near_order(radius_deg);
    IF k < 0 THEN
        k := 0;
        cur := ARRAY[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    ELSE
        FOR slot IN 0 .. 3 LOOP
            p := public._hpx_near_pixel(ra0, dec0, radius_deg, k, slot);
            IF p >= 0 AND NOT p = ANY (cur) THEN
                cur := cur || p;
            END IF;
        END LOOP;
    END IF;
    last_order := least(29, greatest(k, ceil(ln(2 * 58.6::float8 / greatest(radius_deg, 1e-12))
                                               / ln(2::float8))::int));
    m := k;
    LOOP
        nxt := '{}';
        pixrad := 62::float8 / (1::bigint << m) + 2 * 62::float8 / 536870912;
        s := 29 - m;
        FOREACH p IN ARRAY cur LOOP
            IF s = 0 THEN
                q := public.hpx_ipix2ang(p);
            ELSE
                q := public.hpx_ipix2ang((p << (2 * s)) + 3 * (1::bigint << (2 * (s - 1))));
            END IF;
            d := public.hpx_dist(ra0, dec0, q[1], q[2]);
            CONTINUE WHEN d >= radius_deg + pixrad;
            IF d + pixrad < radius_deg OR m >= last_order THEN
                out_lo := out_lo || (p << (2 * s));
                out_hi := out_hi || (((p + 1) << (2 * s)) - 1);
            ELSE
                nxt := nxt || ARRAY[4 * p, 4 * p + 1, 4 * p + 2, 4 * p + 3];
            END IF;
        END LOOP;
        EXIT WHEN cardinality(nxt) = 0;
        cur := nxt;
        m := m + 1;
    END LOOP;
    IF cardinality(out_lo) = 0 THEN
        RETURN result;
    END IF;
    -- Sort, then join ranges whose gap is at most `cut` (0: adjacent ones only), `cut`
    -- being the largest gap that still has to go for max_ranges ranges to remain.
    SELECT array_agg(l ORDER BY l), array_agg(h ORDER BY l) INTO lo, hi
    FROM unnest(out_lo, out_hi) AS r(l, h);
    SELECT coalesce(max(g), 0) INTO cut FROM (
        SELECT lo[i + 1] - hi[i] - 1 AS g FROM generate_subscripts(lo, 1) AS i
        WHERE i < cardinality(lo) ORDER BY 1 LIMIT greatest(0, cardinality(lo) - max_ranges)
    ) AS gaps;
    result := ARRAY[lo[1], hi[1]];
    FOR i IN 2 .. cardinality(lo) LOOP
        IF lo[i] - result[cardinality(result)] - 1 <= cut THEN
            result[cardinality(result)] := hi[i];
        ELSE
            result := result || ARRAY[lo[i], hi[i]];
        END IF;
    END LOOP;
    RETURN result;
END
$$;
COMMENT ON FUNCTION public._hpx_disc_cover(float8, float8, float8) IS
    'Private: sorted hpx ranges {lo1, hi1, lo2, hi2, ...} (at most 40) covering the disc '
    '(ra0, dec0 [deg], radius_deg [deg]). Its high COST keeps _hpx_in_ranges from being '
    'inlined around it when the disc is not constant (a join).';

-- hpx inside one of the ranges c = {lo1, hi1, lo2, hi2, ...} (at most 40). Inlined
-- with a constant array, each range past its end compares with NULL, folds to NULL and
-- leaves the WHERE clause.
CREATE OR REPLACE FUNCTION public._hpx_in_ranges(hpx bigint, c bigint[])
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT hpx BETWEEN c[1] AND c[2] OR hpx BETWEEN c[3] AND c[4] OR hpx BETWEEN c[5] AND c[6]
    OR hpx BETWEEN c[7] AND c[8] OR hpx BETWEEN c[9] AND c[10] OR hpx BETWEEN c[11] AND c[12]
    OR hpx BETWEEN c[13] AND c[14] OR hpx BETWEEN c[15] AND c[16] OR hpx BETWEEN c[17] AND c[18]
    OR hpx BETWEEN c[19] AND c[20] OR hpx BETWEEN c[21] AND c[22] OR hpx BETWEEN c[23] AND c[24]
    OR hpx BETWEEN c[25] AND c[26] OR hpx BETWEEN c[27] AND c[28] OR hpx BETWEEN c[29] AND c[30]
    OR hpx BETWEEN c[31] AND c[32] OR hpx BETWEEN c[33] AND c[34] OR hpx BETWEEN c[35] AND c[36]
    OR hpx BETWEEN c[37] AND c[38] OR hpx BETWEEN c[39] AND c[40] OR hpx BETWEEN c[41] AND c[42]
    OR hpx BETWEEN c[43] AND c[44] OR hpx BETWEEN c[45] AND c[46] OR hpx BETWEEN c[47] AND c[48]
    OR hpx BETWEEN c[49] AND c[50] OR hpx BETWEEN c[51] AND c[52] OR hpx BETWEEN c[53] AND c[54]
    OR hpx BETWEEN c[55] AND c[56] OR hpx BETWEEN c[57] AND c[58] OR hpx BETWEEN c[59] AND c[60]
    OR hpx BETWEEN c[61] AND c[62] OR hpx BETWEEN c[63] AND c[64] OR hpx BETWEEN c[65] AND c[66]
    OR hpx BETWEEN c[67] AND c[68] OR hpx BETWEEN c[69] AND c[70] OR hpx BETWEEN c[71] AND c[72]
    OR hpx BETWEEN c[73] AND c[74] OR hpx BETWEEN c[75] AND c[76] OR hpx BETWEEN c[77] AND c[78]
    OR hpx BETWEEN c[79] AND c[80]
$$;
COMMENT ON FUNCTION public._hpx_in_ranges(bigint, bigint[]) IS
    'Private: true when hpx lies in one of the ranges {lo1, hi1, lo2, hi2, ...} (at most 40).';

-- hpx inside one of the four near ranges of the disc (ra0, dec0, radius_deg). Each range
-- also carries two always-true conditions hpx > (x IS NULL)::int - n, n differing from
-- range to range so that the planner cannot pull them out of the OR: with a constant
-- centre they fold to hpx > -n and change nothing; with a column as centre (a join) the
-- planner, which cannot see how narrow the ranges are, estimates each at 1/3, so it
-- prices the index probe below a scan of the inner table (Q3C ships a C selectivity
-- function for this). Inlined, so the bounds are index conditions. Slot 0 is
-- _hpx_near_bound0, the cheaper per outer row, for radii up to 0.03 deg (small = true);
-- larger radii call _hpx_near_bound, which plans faster (a constant disc then takes its
-- index ranges from the fine cover, and the near ranges only narrow them).
CREATE OR REPLACE FUNCTION public._hpx_in_near_ranges(hpx bigint, ra0 float8, dec0 float8,
                                                      radius_deg float8, small boolean)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (hpx BETWEEN CASE WHEN small THEN public._hpx_near_bound0(ra0, dec0, radius_deg, false)
                         ELSE public._hpx_near_bound(ra0, dec0, radius_deg, 0, false) END
            AND CASE WHEN small THEN public._hpx_near_bound0(ra0, dec0, radius_deg, true)
                     ELSE public._hpx_near_bound(ra0, dec0, radius_deg, 0, true) END
        AND hpx > (ra0 IS NULL)::int - 2 AND hpx > (dec0 IS NULL)::int - 2)
    OR (hpx BETWEEN public._hpx_near_bound(ra0, dec0, radius_deg, 1, false)
            AND public._hpx_near_bound(ra0, dec0, radius_deg, 1, true)
        AND hpx > (ra0 IS NULL)::int - 3 AND hpx > (dec0 IS NULL)::int - 3)
    OR (hpx BETWEEN public._hpx_near_bound(ra0, dec0, radius_deg, 2, false)
            AND public._hpx_near_bound(ra0, dec0, radius_deg, 2, true)
        AND hpx > (ra0 IS NULL)::int - 4 AND hpx > (dec0 IS NULL)::int - 4)
    OR (hpx BETWEEN public._hpx_near_bound(ra0, dec0, radius_deg, 3, false)
            AND public._hpx_near_bound(ra0, dec0, radius_deg, 3, true)
        AND hpx > (ra0 IS NULL)::int - 5 AND hpx > (dec0 IS NULL)::int - 5)
$$;
COMMENT ON FUNCTION public._hpx_in_near_ranges(bigint, float8, float8, float8, boolean) IS
    'Private: true when hpx lies in one of the four near-cover ranges of the disc (ra0, '
    'dec0 [deg], radius_deg [deg]).';

-- hpx inside the cover of the disc: its near ranges, and for radii over 0.03 deg (108")
-- the fine cover too. With a constant disc the fine cover is computed once at plan time
-- (the array argument of _hpx_in_ranges is folded before that function is inlined) and
-- its up to 40 ranges drive the index, the near ranges only narrowing them. With a
-- column as centre, the cover's COST keeps _hpx_in_ranges from being inlined: the near
-- ranges drive the probe, and the cover is computed only for the rows that pass the
-- caller's exact test (the cheaper filter comes first), not for every range bound of
-- every outer row.
CREATE OR REPLACE FUNCTION public._hpx_in_disc_cover(hpx bigint, ra0 float8, dec0 float8,
                                                     radius_deg float8)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (radius_deg <= 0.03 AND public._hpx_in_near_ranges(hpx, ra0, dec0, radius_deg, true))
    OR (NOT radius_deg <= 0.03
        AND public._hpx_in_near_ranges(hpx, ra0, dec0, radius_deg, false)
        AND public._hpx_in_ranges(hpx, public._hpx_disc_cover(ra0, dec0, radius_deg)))
$$;
COMMENT ON FUNCTION public._hpx_in_disc_cover(bigint, float8, float8, float8) IS
    'Private: true when hpx lies in the cover of the disc (ra0, dec0 [deg], radius_deg '
    '[deg]); inlined, its ranges are index conditions on hpx.';

-- =================================================================================
-- Queries (inlinable: the planner sees the hpx ranges and uses the B-tree on hpx)
-- =================================================================================

-- Radial (cone) query, Q3C's q3c_radial_query with the stored pixel column first.
-- Not STRICT, so the planner can inline it. With a column as centre it is the
-- cross-match join (q3c_join's role): the near ranges' bounds are then the inner
-- table's index conditions, evaluated once per outer row; an empty range has NULL
-- bounds, so it folds away with a constant centre and reads nothing in a join.
CREATE OR REPLACE FUNCTION public.hpx_radial_query(hpx bigint, ra_deg float8, dec_deg float8,
                                                   ra0_deg float8, dec0_deg float8,
                                                   radius_deg float8)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT public._hpx_in_disc_cover(hpx, ra0_deg, dec0_deg, radius_deg)
       AND public._hpx_sindist(ra_deg, dec_deg, ra0_deg, dec0_deg)
           < power(sin(radians(radius_deg) / 2), 2)
$$;
COMMENT ON FUNCTION public.hpx_radial_query(bigint, float8, float8, float8, float8, float8) IS
    'True when the row (hpx, ra_deg, dec_deg [deg]) lies strictly within radius_deg [deg] of '
    '(ra0_deg, dec0_deg [deg]); index-driven on hpx. Q3C''s q3c_radial_query / q3c_join.';

-- Ellipse test on the tangent plane at the centre: the row's gnomonic coordinates
-- along the major and minor axes, (u, v) / w, inside the ellipse of semi-axes
-- tan(a) and tan(b) with b = a * axis_ratio, written without divisions so a = 0 is
-- an empty ellipse. A circle (axis_ratio = 1) is exactly the cone of radius a.
CREATE OR REPLACE FUNCTION public._hpx_in_ellipse(ra_deg float8, dec_deg float8,
                                                  ra0_deg float8, dec0_deg float8,
                                                  semi_major_deg float8, axis_ratio float8,
                                                  pa_deg float8)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    da float8 := radians(ra_deg - ra0_deg);
    d float8 := radians(dec_deg);
    d0 float8 := radians(dec0_deg);
    pa float8 := radians(pa_deg);
    ta float8 := tan(radians(semi_major_deg));
    tb float8 := tan(radians(semi_major_deg * axis_ratio));
    w float8;
    e float8;
    n float8;
    u float8;
    v float8;
BEGIN
    w := sin(d) * sin(d0) + cos(d) * cos(d0) * cos(da);   -- along the centre
    e := cos(d) * sin(da);                                -- towards east
    n := sin(d) * cos(d0) - cos(d) * sin(d0) * cos(da);   -- towards north
    u := n * cos(pa) + e * sin(pa);                       -- along the major axis
    v := -n * sin(pa) + e * cos(pa);                      -- along the minor axis
    RETURN w > 0 AND u * u * tb * tb + v * v * ta * ta < w * w * ta * ta * tb * tb;
END
$$;
COMMENT ON FUNCTION public._hpx_in_ellipse(float8, float8, float8, float8, float8, float8, float8) IS
    'Private: exact ellipse membership of (ra_deg, dec_deg) [deg] (tangent-plane ellipse, '
    'semi-major axis [deg], axis ratio, position angle east of north [deg]).';

-- Argument check of hpx_ellipse_query, inlined as _hpx_check_disc is; folds to true for
-- valid constants.
CREATE OR REPLACE FUNCTION public._hpx_check_ellipse(semi_major_deg float8, axis_ratio float8)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN NOT semi_major_deg < 90 THEN public._hpx_raise(
        'semi-major axis must be < 90 degrees, got ' || semi_major_deg::text, NULL::boolean)
    WHEN NOT (axis_ratio > 0 AND axis_ratio <= 1) THEN public._hpx_raise(
        'axis ratio must be in (0, 1], got ' || axis_ratio::text, NULL::boolean)
    ELSE true
END
$$;
COMMENT ON FUNCTION public._hpx_check_ellipse(float8, float8) IS
    'Private: true when semi_major_deg [deg] < 90 and axis_ratio is in (0, 1], else an error.';

-- Ellipse query, Q3C's q3c_ellipse_query with the stored pixel column first; covered,
-- as hpx_radial_query covers it, by the disc of the semi-major axis.
CREATE OR REPLACE FUNCTION public.hpx_ellipse_query(hpx bigint, ra_deg float8, dec_deg float8,
                                                    ra0_deg float8, dec0_deg float8,
                                                    semi_major_deg float8, axis_ratio float8,
                                                    pa_deg float8)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT public._hpx_check_ellipse(semi_major_deg, axis_ratio)
       AND public._hpx_in_disc_cover(hpx, ra0_deg, dec0_deg, semi_major_deg)
       AND public._hpx_in_ellipse(ra_deg, dec_deg, ra0_deg, dec0_deg, semi_major_deg,
                                  axis_ratio, pa_deg)
$$;
COMMENT ON FUNCTION public.hpx_ellipse_query(bigint, float8, float8, float8, float8, float8, float8, float8) IS
    'True when the row (hpx, ra_deg, dec_deg [deg]) lies inside the ellipse centred on '
    '(ra0_deg, dec0_deg) [deg] with semi-major axis semi_major_deg [deg], minor/major '
    'axis_ratio in (0, 1] and position angle pa_deg [deg, east of north], measured on the '
    'tangent plane at the centre; index-driven on hpx.';

-- Covering disc {ra, dec, radius} [deg] of a polygon: centre = normalized sum of the
-- vertex vectors, radius = largest centre-vertex distance (plus 1e-9 deg against
-- rounding). Caps under 90 degrees are convex, so the great-circle edges and the
-- interior are inside too. Validates the vertex array.
CREATE OR REPLACE FUNCTION public._hpx_poly_disc(poly float8[])
RETURNS float8[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    n int := coalesce(array_length(poly, 1), 0);
    x float8 := 0;
    y float8 := 0;
    z float8 := 0;
    ra0 float8;
    dec0 float8;
    r float8 := 0;
BEGIN
    IF array_ndims(poly) > 1 OR n % 2 = 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'polygon must be a flat array [ra1, dec1, ra2, dec2, ...] of degrees';
    END IF;
    IF n < 6 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('polygon must have at least 3 vertices, got %s', n / 2);
    END IF;
    FOR i IN 1 .. n / 2 LOOP
        IF poly[2 * i - 1] IS NULL OR poly[2 * i] IS NULL
           OR NOT poly[2 * i] BETWEEN -90 AND 90
           OR poly[2 * i - 1] IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('polygon vertex %s (%s, %s) is not a position: ra must be '
                                 'finite and dec in [-90, 90] degrees',
                                 i, poly[2 * i - 1], poly[2 * i]);
        END IF;
        x := x + cos(radians(poly[2 * i])) * cos(radians(poly[2 * i - 1]));
        y := y + cos(radians(poly[2 * i])) * sin(radians(poly[2 * i - 1]));
        z := z + sin(radians(poly[2 * i]));
    END LOOP;
    ra0 := degrees(atan2(y, x));
    dec0 := degrees(atan2(z, sqrt(x * x + y * y)));
    FOR i IN 1 .. n / 2 LOOP
        r := greatest(r, public.hpx_dist(ra0, dec0, poly[2 * i - 1], poly[2 * i]));
    END LOOP;
    IF x * x + y * y + z * z < 1e-20 OR r >= 90 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'polygon must fit in a hemisphere (vertices within 90 degrees of their mean)';
    END IF;
    RETURN ARRAY[ra0, dec0, r + 1e-9];
END
$$;
COMMENT ON FUNCTION public._hpx_poly_disc(float8[]) IS
    'Private: covering disc {ra, dec, radius} [deg] of a polygon [ra1, dec1, ...] [deg]; '
    'errors on fewer than 3 vertices, bad positions, or a polygon larger than a hemisphere.';

-- Fine cover of a polygon: that of its covering disc.
CREATE OR REPLACE FUNCTION public._hpx_poly_cover(poly float8[])
RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1 AS $$
DECLARE
    d float8[] := public._hpx_poly_disc(poly);
BEGIN
    RETURN public._hpx_disc_cover(d[1], d[2], d[3]);
END
$$;
COMMENT ON FUNCTION public._hpx_poly_cover(float8[]) IS
    'Private: sorted hpx ranges {lo1, hi1, ...} (at most 40) covering the polygon '
    '[ra1, dec1, ...] [deg]; errors on an impossible polygon.';

-- Point in polygon: gnomonic projection about the covering disc's centre (great-circle
-- edges become straight lines), then the even-odd ray-crossing rule.
CREATE OR REPLACE FUNCTION public._hpx_in_poly(ra_deg float8, dec_deg float8, poly float8[])
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    d float8[] := public._hpx_poly_disc(poly);
    a0 float8 := radians(d[1]);
    d0 float8 := radians(d[2]);
    n int := array_length(poly, 1) / 2;
    xs float8[];
    ys float8[];
    inside boolean := false;
    j int;
    da float8;
    dd float8;
    w float8;
BEGIN
    -- Gnomonic coordinates (xs, ys) of the point (index 0) and of the vertices (1..n).
    FOR i IN 0 .. n LOOP
        da := radians(CASE WHEN i = 0 THEN ra_deg ELSE poly[2 * i - 1] END) - a0;
        dd := radians(CASE WHEN i = 0 THEN dec_deg ELSE poly[2 * i] END);
        w := sin(dd) * sin(d0) + cos(dd) * cos(d0) * cos(da);
        IF i = 0 AND w <= 0 THEN
            RETURN false;  -- the point is at least 90 degrees from the centre
        END IF;
        xs[i] := cos(dd) * sin(da) / w;
        ys[i] := (sin(dd) * cos(d0) - cos(dd) * sin(d0) * cos(da)) / w;
    END LOOP;
    j := n;
    FOR i IN 1 .. n LOOP
        IF (ys[i] > ys[0]) <> (ys[j] > ys[0])
           AND xs[0] < (xs[j] - xs[i]) * (ys[0] - ys[i]) / (ys[j] - ys[i]) + xs[i] THEN
            inside := NOT inside;
        END IF;
        j := i;
    END LOOP;
    RETURN inside;
END
$$;
COMMENT ON FUNCTION public._hpx_in_poly(float8, float8, float8[]) IS
    'Private: exact membership of (ra_deg, dec_deg) [deg] in the polygon [ra1, dec1, ...] '
    '[deg] with great-circle edges (even-odd rule).';

-- Polygon query, Q3C's q3c_poly_query with the stored pixel column first.
CREATE OR REPLACE FUNCTION public.hpx_poly_query(hpx bigint, ra_deg float8, dec_deg float8,
                                                 poly float8[])
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT public._hpx_in_ranges(hpx, public._hpx_poly_cover(poly))
       AND public._hpx_in_poly(ra_deg, dec_deg, poly)
$$;
COMMENT ON FUNCTION public.hpx_poly_query(bigint, float8, float8, float8[]) IS
    'True when the row (hpx, ra_deg, dec_deg [deg]) lies inside the polygon with great-circle '
    'edges whose vertices are poly = [ra1, dec1, ra2, dec2, ...] [deg] (at least 3, within '
    'a hemisphere); index-driven on hpx.';
