--
-- PostgreSQL database dump
--

\restrict sULqZA1qJ9fsDhmCzok96YrkSgfG0jtug2uxXtEmJxU6JJMYmBY9pkNJjEB6yC8

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
-- Name: Sch; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA "Sch";


ALTER SCHEMA "Sch" OWNER TO postgres;

--
-- Name: f(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.f() RETURNS void
    LANGUAGE sql
    AS $$
INSERT INTO t VALUES (100, 'from function');
$$;


ALTER FUNCTION public.f() OWNER TO postgres;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: empty; Type: TABLE; Schema: Sch; Owner: postgres
--

CREATE TABLE "Sch".empty (
    x integer
);


ALTER TABLE "Sch".empty OWNER TO postgres;

--
-- Name: My Table; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public."My Table" (
    id integer,
    "Wei""rd" text
);


ALTER TABLE public."My Table" OWNER TO postgres;

--
-- Name: notes; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.notes (
    line text
);


ALTER TABLE public.notes OWNER TO postgres;

--
-- Name: t; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.t (
    id integer,
    s text
);


ALTER TABLE public.t OWNER TO postgres;

--
-- Data for Name: empty; Type: TABLE DATA; Schema: Sch; Owner: postgres
--

COPY "Sch".empty (x) FROM stdin;
\.


--
-- Data for Name: My Table; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public."My Table" (id, "Wei""rd") FROM stdin;
1	row 1
2	row 2
3	row 3
4	row 4
5	row 5
\.


--
-- Data for Name: notes; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.notes (line) FROM stdin;
-- PostgreSQL database dump complete
\\.
\\.
COPY x FROM stdin;

multi\nline
`q` ' " ),(;
\.


--
-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.t (id, s) FROM stdin;
1	plain
2	\\.
3	tab\there
4	new\nline
5	back\\slash
6	\N
7	-- PostgreSQL database dump complete
8	\\.\n\\.
9	it's ),( ; "q"
\.


--
-- PostgreSQL database dump complete
--

\unrestrict sULqZA1qJ9fsDhmCzok96YrkSgfG0jtug2uxXtEmJxU6JJMYmBY9pkNJjEB6yC8

