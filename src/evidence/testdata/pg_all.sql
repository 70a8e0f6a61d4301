--
-- PostgreSQL database cluster dump
--

\restrict sWZEE9ImxIfPbbHO5H2xfrTKi5gXEjTXYzNLIgVV000eMm921BsoAuhqtXw7Xb9

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles
--

CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;

--
-- User Configurations
--








\unrestrict sWZEE9ImxIfPbbHO5H2xfrTKi5gXEjTXYzNLIgVV000eMm921BsoAuhqtXw7Xb9

--
-- Databases
--

--
-- Database "template1" dump
--

\connect template1

--
-- PostgreSQL database dump
--

\restrict 8nKz9J9TeTz47zgmJLmqkcAGRU7ac886VOMIhm1e6ERHYku9aM0JqaymZtsu4Cf

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
-- PostgreSQL database dump complete
--

\unrestrict 8nKz9J9TeTz47zgmJLmqkcAGRU7ac886VOMIhm1e6ERHYku9aM0JqaymZtsu4Cf

--
-- Database "app" dump
--

--
-- PostgreSQL database dump
--

\restrict hjgIzepIjyGcMkH7cR4Is7ihBa1Q3ji8Yy8W8nV30urvo7S673HbXuKjuCutkca

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
-- Name: app; Type: DATABASE; Schema: -; Owner: postgres
--

CREATE DATABASE app WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';


ALTER DATABASE app OWNER TO postgres;

\unrestrict hjgIzepIjyGcMkH7cR4Is7ihBa1Q3ji8Yy8W8nV30urvo7S673HbXuKjuCutkca
\connect app
\restrict hjgIzepIjyGcMkH7cR4Is7ihBa1Q3ji8Yy8W8nV30urvo7S673HbXuKjuCutkca

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

\unrestrict hjgIzepIjyGcMkH7cR4Is7ihBa1Q3ji8Yy8W8nV30urvo7S673HbXuKjuCutkca

--
-- Database "postgres" dump
--

\connect postgres

--
-- PostgreSQL database dump
--

\restrict C4t8r2TNb8ruPOAzjzgCtFzLo67Fjznayu57ab7vcJOTjfdwOqHg1DV4Tf2vuhe

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
-- PostgreSQL database dump complete
--

\unrestrict C4t8r2TNb8ruPOAzjzgCtFzLo67Fjznayu57ab7vcJOTjfdwOqHg1DV4Tf2vuhe

--
-- PostgreSQL database cluster dump complete
--

