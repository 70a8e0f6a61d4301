--
-- PostgreSQL database dump
--

\restrict uA3CgHJhtFf2IbHRzNuVMixKZMEIQnH5LK7XK8jXIlb0KGfSSJSyYYBHhqmi9XI

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: atomic_sum(integer, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.atomic_sum(a integer, b integer) RETURNS integer
    LANGUAGE sql
    BEGIN ATOMIC
 SELECT
         CASE
             WHEN (a > 0) THEN (a + b)
             ELSE b
         END AS b;
END;


--
-- Name: batch(); Type: PROCEDURE; Schema: public; Owner: -
--

CREATE PROCEDURE public.batch()
    LANGUAGE plpgsql
    AS $$
BEGIN
INSERT INTO notes VALUES (100, 'x');
COMMIT;
END
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: Mixed "Case"; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public."Mixed ""Case""" (
    x integer
);


--
-- Name: notes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notes (
    id integer NOT NULL,
    body text
);


--
-- Name: TABLE notes; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.notes IS 'COMMIT;
ROLLBACK;';


--
-- Name: 16399; Type: BLOB; Schema: -; Owner: -
--

SELECT pg_catalog.lo_create('16399');


--
-- Name: 16400; Type: BLOB; Schema: -; Owner: -
--

SELECT pg_catalog.lo_create('16400');


--
-- Data for Name: Mixed "Case"; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public."Mixed ""Case""" (x) FROM stdin;
1
\.


--
-- Data for Name: notes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.notes (id, body) FROM stdin;
1	it's; COMMIT; here
2	back\\slash\nCOMMIT;\n\\.
3	BEGIN;
4	\N
\.


--
-- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
--

BEGIN;

SELECT pg_catalog.lo_open('16399', 131072);
SELECT pg_catalog.lowrite(0, '\x00010203');
SELECT pg_catalog.lo_close(0);

SELECT pg_catalog.lo_open('16400', 131072);
SELECT pg_catalog.lowrite(0, '\x434f4d4d49543b');
SELECT pg_catalog.lo_close(0);

COMMIT;

--
-- Name: notes notes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (id);


--
-- PostgreSQL database dump complete
--

\unrestrict uA3CgHJhtFf2IbHRzNuVMixKZMEIQnH5LK7XK8jXIlb0KGfSSJSyYYBHhqmi9XI

