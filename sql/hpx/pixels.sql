-- HEALPix pixel math and distances: the NESTED order-29 index of a position and back,
-- neighbour steps, great-circle distances.
--
-- Plain SQL and PL/pgSQL only, so the functions run on any PostgreSQL >= 15 without an
-- extension. Installed into schema public by the migrations; re-running this file is
-- harmless (every statement is CREATE OR REPLACE).
--
-- Conventions: angles in degrees (ICRS), pixel numbers are NESTED order 29 (the value
-- healpy.ang2pix(2**29, ra, dec, nest=True, lonlat=True) returns). Functions whose name
-- starts with "_hpx_" are private building blocks of the public ones. The files of
-- sql/hpx/ run in the order pixels.sql, cover.sql, queries.sql.

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
