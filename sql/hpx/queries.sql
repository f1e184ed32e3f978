-- HEALPix queries: the index-driven radial, ellipse and polygon tests (Q3C's argument
-- order and units).
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
