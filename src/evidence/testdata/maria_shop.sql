/*M!999999\- enable the sandbox mode */ 
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: shop
-- ------------------------------------------------------
-- Server version	10.11.19-MariaDB-0+deb12u1

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;

--
-- Current Database: `shop`
--

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci */;

USE `shop`;

--
-- Table structure for table `big`
--

DROP TABLE IF EXISTS `big`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `big` (
  `id` int(11) DEFAULT NULL,
  `s` varchar(100) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `big`
--

LOCK TABLES `big` WRITE;
/*!40000 ALTER TABLE `big` DISABLE KEYS */;
INSERT INTO `big` VALUES
(1,'row 1 ),(;\'\"'),
(2,'row 2 ),(;\'\"'),
(3,'row 3 ),(;\'\"'),
(4,'row 4 ),(;\'\"'),
(5,'row 5 ),(;\'\"'),
(6,'row 6 ),(;\'\"'),
(7,'row 7 ),(;\'\"'),
(8,'row 8 ),(;\'\"'),
(9,'row 9 ),(;\'\"'),
(10,'row 10 ),(;\'\"'),
(11,'row 11 ),(;\'\"'),
(12,'row 12 ),(;\'\"'),
(13,'row 13 ),(;\'\"'),
(14,'row 14 ),(;\'\"'),
(15,'row 15 ),(;\'\"'),
(16,'row 16 ),(;\'\"'),
(17,'row 17 ),(;\'\"'),
(18,'row 18 ),(;\'\"'),
(19,'row 19 ),(;\'\"'),
(20,'row 20 ),(;\'\"'),
(21,'row 21 ),(;\'\"'),
(22,'row 22 ),(;\'\"'),
(23,'row 23 ),(;\'\"'),
(24,'row 24 ),(;\'\"'),
(25,'row 25 ),(;\'\"'),
(26,'row 26 ),(;\'\"'),
(27,'row 27 ),(;\'\"'),
(28,'row 28 ),(;\'\"'),
(29,'row 29 ),(;\'\"'),
(30,'row 30 ),(;\'\"'),
(31,'row 31 ),(;\'\"'),
(32,'row 32 ),(;\'\"'),
(33,'row 33 ),(;\'\"'),
(34,'row 34 ),(;\'\"'),
(35,'row 35 ),(;\'\"'),
(36,'row 36 ),(;\'\"'),
(37,'row 37 ),(;\'\"'),
(38,'row 38 ),(;\'\"'),
(39,'row 39 ),(;\'\"'),
(40,'row 40 ),(;\'\"'),
(41,'row 41 ),(;\'\"'),
(42,'row 42 ),(;\'\"'),
(43,'row 43 ),(;\'\"'),
(44,'row 44 ),(;\'\"'),
(45,'row 45 ),(;\'\"'),
(46,'row 46 ),(;\'\"'),
(47,'row 47 ),(;\'\"'),
(48,'row 48 ),(;\'\"'),
(49,'row 49 ),(;\'\"'),
(50,'row 50 ),(;\'\"'),
(51,'row 51 ),(;\'\"'),
(52,'row 52 ),(;\'\"'),
(53,'row 53 ),(;\'\"'),
(54,'row 54 ),(;\'\"'),
(55,'row 55 ),(;\'\"'),
(56,'row 56 ),(;\'\"'),
(57,'row 57 ),(;\'\"'),
(58,'row 58 ),(;\'\"'),
(59,'row 59 ),(;\'\"'),
(60,'row 60 ),(;\'\"'),
(61,'row 61 ),(;\'\"'),
(62,'row 62 ),(;\'\"'),
(63,'row 63 ),(;\'\"'),
(64,'row 64 ),(;\'\"'),
(65,'row 65 ),(;\'\"'),
(66,'row 66 ),(;\'\"'),
(67,'row 67 ),(;\'\"'),
(68,'row 68 ),(;\'\"'),
(69,'row 69 ),(;\'\"'),
(70,'row 70 ),(;\'\"'),
(71,'row 71 ),(;\'\"'),
(72,'row 72 ),(;\'\"'),
(73,'row 73 ),(;\'\"'),
(74,'row 74 ),(;\'\"'),
(75,'row 75 ),(;\'\"'),
(76,'row 76 ),(;\'\"'),
(77,'row 77 ),(;\'\"'),
(78,'row 78 ),(;\'\"'),
(79,'row 79 ),(;\'\"'),
(80,'row 80 ),(;\'\"'),
(81,'row 81 ),(;\'\"'),
(82,'row 82 ),(;\'\"'),
(83,'row 83 ),(;\'\"'),
(84,'row 84 ),(;\'\"'),
(85,'row 85 ),(;\'\"'),
(86,'row 86 ),(;\'\"'),
(87,'row 87 ),(;\'\"'),
(88,'row 88 ),(;\'\"'),
(89,'row 89 ),(;\'\"'),
(90,'row 90 ),(;\'\"'),
(91,'row 91 ),(;\'\"'),
(92,'row 92 ),(;\'\"'),
(93,'row 93 ),(;\'\"'),
(94,'row 94 ),(;\'\"'),
(95,'row 95 ),(;\'\"'),
(96,'row 96 ),(;\'\"'),
(97,'row 97 ),(;\'\"'),
(98,'row 98 ),(;\'\"'),
(99,'row 99 ),(;\'\"'),
(100,'row 100 ),(;\'\"'),
(101,'row 101 ),(;\'\"'),
(102,'row 102 ),(;\'\"'),
(103,'row 103 ),(;\'\"'),
(104,'row 104 ),(;\'\"'),
(105,'row 105 ),(;\'\"'),
(106,'row 106 ),(;\'\"'),
(107,'row 107 ),(;\'\"'),
(108,'row 108 ),(;\'\"'),
(109,'row 109 ),(;\'\"'),
(110,'row 110 ),(;\'\"'),
(111,'row 111 ),(;\'\"'),
(112,'row 112 ),(;\'\"'),
(113,'row 113 ),(;\'\"'),
(114,'row 114 ),(;\'\"'),
(115,'row 115 ),(;\'\"'),
(116,'row 116 ),(;\'\"'),
(117,'row 117 ),(;\'\"'),
(118,'row 118 ),(;\'\"'),
(119,'row 119 ),(;\'\"'),
(120,'row 120 ),(;\'\"'),
(121,'row 121 ),(;\'\"'),
(122,'row 122 ),(;\'\"'),
(123,'row 123 ),(;\'\"'),
(124,'row 124 ),(;\'\"'),
(125,'row 125 ),(;\'\"'),
(126,'row 126 ),(;\'\"'),
(127,'row 127 ),(;\'\"'),
(128,'row 128 ),(;\'\"'),
(129,'row 129 ),(;\'\"'),
(130,'row 130 ),(;\'\"'),
(131,'row 131 ),(;\'\"'),
(132,'row 132 ),(;\'\"'),
(133,'row 133 ),(;\'\"'),
(134,'row 134 ),(;\'\"'),
(135,'row 135 ),(;\'\"'),
(136,'row 136 ),(;\'\"'),
(137,'row 137 ),(;\'\"'),
(138,'row 138 ),(;\'\"'),
(139,'row 139 ),(;\'\"'),
(140,'row 140 ),(;\'\"'),
(141,'row 141 ),(;\'\"'),
(142,'row 142 ),(;\'\"'),
(143,'row 143 ),(;\'\"'),
(144,'row 144 ),(;\'\"'),
(145,'row 145 ),(;\'\"'),
(146,'row 146 ),(;\'\"'),
(147,'row 147 ),(;\'\"'),
(148,'row 148 ),(;\'\"'),
(149,'row 149 ),(;\'\"'),
(150,'row 150 ),(;\'\"'),
(151,'row 151 ),(;\'\"'),
(152,'row 152 ),(;\'\"'),
(153,'row 153 ),(;\'\"'),
(154,'row 154 ),(;\'\"'),
(155,'row 155 ),(;\'\"'),
(156,'row 156 ),(;\'\"'),
(157,'row 157 ),(;\'\"'),
(158,'row 158 ),(;\'\"'),
(159,'row 159 ),(;\'\"'),
(160,'row 160 ),(;\'\"'),
(161,'row 161 ),(;\'\"'),
(162,'row 162 ),(;\'\"'),
(163,'row 163 ),(;\'\"'),
(164,'row 164 ),(;\'\"');
INSERT INTO `big` VALUES
(165,'row 165 ),(;\'\"'),
(166,'row 166 ),(;\'\"'),
(167,'row 167 ),(;\'\"'),
(168,'row 168 ),(;\'\"'),
(169,'row 169 ),(;\'\"'),
(170,'row 170 ),(;\'\"'),
(171,'row 171 ),(;\'\"'),
(172,'row 172 ),(;\'\"'),
(173,'row 173 ),(;\'\"'),
(174,'row 174 ),(;\'\"'),
(175,'row 175 ),(;\'\"'),
(176,'row 176 ),(;\'\"'),
(177,'row 177 ),(;\'\"'),
(178,'row 178 ),(;\'\"'),
(179,'row 179 ),(;\'\"'),
(180,'row 180 ),(;\'\"'),
(181,'row 181 ),(;\'\"'),
(182,'row 182 ),(;\'\"'),
(183,'row 183 ),(;\'\"'),
(184,'row 184 ),(;\'\"'),
(185,'row 185 ),(;\'\"'),
(186,'row 186 ),(;\'\"'),
(187,'row 187 ),(;\'\"'),
(188,'row 188 ),(;\'\"'),
(189,'row 189 ),(;\'\"'),
(190,'row 190 ),(;\'\"'),
(191,'row 191 ),(;\'\"'),
(192,'row 192 ),(;\'\"'),
(193,'row 193 ),(;\'\"'),
(194,'row 194 ),(;\'\"'),
(195,'row 195 ),(;\'\"'),
(196,'row 196 ),(;\'\"'),
(197,'row 197 ),(;\'\"'),
(198,'row 198 ),(;\'\"'),
(199,'row 199 ),(;\'\"'),
(200,'row 200 ),(;\'\"'),
(201,'row 201 ),(;\'\"'),
(202,'row 202 ),(;\'\"'),
(203,'row 203 ),(;\'\"'),
(204,'row 204 ),(;\'\"'),
(205,'row 205 ),(;\'\"'),
(206,'row 206 ),(;\'\"'),
(207,'row 207 ),(;\'\"'),
(208,'row 208 ),(;\'\"'),
(209,'row 209 ),(;\'\"'),
(210,'row 210 ),(;\'\"'),
(211,'row 211 ),(;\'\"'),
(212,'row 212 ),(;\'\"'),
(213,'row 213 ),(;\'\"'),
(214,'row 214 ),(;\'\"'),
(215,'row 215 ),(;\'\"'),
(216,'row 216 ),(;\'\"'),
(217,'row 217 ),(;\'\"'),
(218,'row 218 ),(;\'\"'),
(219,'row 219 ),(;\'\"'),
(220,'row 220 ),(;\'\"'),
(221,'row 221 ),(;\'\"'),
(222,'row 222 ),(;\'\"'),
(223,'row 223 ),(;\'\"'),
(224,'row 224 ),(;\'\"'),
(225,'row 225 ),(;\'\"'),
(226,'row 226 ),(;\'\"'),
(227,'row 227 ),(;\'\"'),
(228,'row 228 ),(;\'\"'),
(229,'row 229 ),(;\'\"'),
(230,'row 230 ),(;\'\"'),
(231,'row 231 ),(;\'\"'),
(232,'row 232 ),(;\'\"'),
(233,'row 233 ),(;\'\"'),
(234,'row 234 ),(;\'\"'),
(235,'row 235 ),(;\'\"'),
(236,'row 236 ),(;\'\"'),
(237,'row 237 ),(;\'\"'),
(238,'row 238 ),(;\'\"'),
(239,'row 239 ),(;\'\"'),
(240,'row 240 ),(;\'\"'),
(241,'row 241 ),(;\'\"'),
(242,'row 242 ),(;\'\"'),
(243,'row 243 ),(;\'\"'),
(244,'row 244 ),(;\'\"'),
(245,'row 245 ),(;\'\"'),
(246,'row 246 ),(;\'\"'),
(247,'row 247 ),(;\'\"'),
(248,'row 248 ),(;\'\"'),
(249,'row 249 ),(;\'\"'),
(250,'row 250 ),(;\'\"'),
(251,'row 251 ),(;\'\"'),
(252,'row 252 ),(;\'\"'),
(253,'row 253 ),(;\'\"'),
(254,'row 254 ),(;\'\"'),
(255,'row 255 ),(;\'\"'),
(256,'row 256 ),(;\'\"'),
(257,'row 257 ),(;\'\"'),
(258,'row 258 ),(;\'\"'),
(259,'row 259 ),(;\'\"'),
(260,'row 260 ),(;\'\"'),
(261,'row 261 ),(;\'\"'),
(262,'row 262 ),(;\'\"'),
(263,'row 263 ),(;\'\"'),
(264,'row 264 ),(;\'\"'),
(265,'row 265 ),(;\'\"'),
(266,'row 266 ),(;\'\"'),
(267,'row 267 ),(;\'\"'),
(268,'row 268 ),(;\'\"'),
(269,'row 269 ),(;\'\"'),
(270,'row 270 ),(;\'\"'),
(271,'row 271 ),(;\'\"'),
(272,'row 272 ),(;\'\"'),
(273,'row 273 ),(;\'\"'),
(274,'row 274 ),(;\'\"'),
(275,'row 275 ),(;\'\"'),
(276,'row 276 ),(;\'\"'),
(277,'row 277 ),(;\'\"'),
(278,'row 278 ),(;\'\"'),
(279,'row 279 ),(;\'\"'),
(280,'row 280 ),(;\'\"'),
(281,'row 281 ),(;\'\"'),
(282,'row 282 ),(;\'\"'),
(283,'row 283 ),(;\'\"'),
(284,'row 284 ),(;\'\"'),
(285,'row 285 ),(;\'\"'),
(286,'row 286 ),(;\'\"'),
(287,'row 287 ),(;\'\"'),
(288,'row 288 ),(;\'\"'),
(289,'row 289 ),(;\'\"'),
(290,'row 290 ),(;\'\"'),
(291,'row 291 ),(;\'\"'),
(292,'row 292 ),(;\'\"'),
(293,'row 293 ),(;\'\"'),
(294,'row 294 ),(;\'\"'),
(295,'row 295 ),(;\'\"'),
(296,'row 296 ),(;\'\"'),
(297,'row 297 ),(;\'\"'),
(298,'row 298 ),(;\'\"'),
(299,'row 299 ),(;\'\"'),
(300,'row 300 ),(;\'\"');
/*!40000 ALTER TABLE `big` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `empty`
--

DROP TABLE IF EXISTS `empty`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `empty` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `empty`
--

LOCK TABLES `empty` WRITE;
/*!40000 ALTER TABLE `empty` DISABLE KEYS */;
/*!40000 ALTER TABLE `empty` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `log`
--

DROP TABLE IF EXISTS `log`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `log` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `log`
--

LOCK TABLES `log` WRITE;
/*!40000 ALTER TABLE `log` DISABLE KEYS */;
/*!40000 ALTER TABLE `log` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `t`
--

DROP TABLE IF EXISTS `t`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `t` (
  `id` int(11) NOT NULL,
  `s` text DEFAULT NULL,
  `b` blob DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `t`
--

LOCK TABLES `t` WRITE;
/*!40000 ALTER TABLE `t` DISABLE KEYS */;
INSERT INTO `t` VALUES
(1,'plain',NULL),
(2,'it\'s ),( ; \"q\"','\0ÿ'),
(3,'back\\slash\\','x'),
(4,'new\nline	tab\r',NULL),
(5,'\'),(\'',NULL),
(6,'dq \" );',NULL),
(7,'-- Dump completed on 2020',NULL);
/*!40000 ALTER TABLE `t` ENABLE KEYS */;
UNLOCK TABLES;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;
/*!50003 SET character_set_client  = utf8mb3 */ ;
/*!50003 SET character_set_results = utf8mb3 */ ;
/*!50003 SET collation_connection  = utf8mb3_general_ci */ ;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER trg AFTER INSERT ON t FOR EACH ROW
INSERT INTO log VALUES (NEW.id) 
*/;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
/*!50003 SET character_set_results = @saved_cs_results */ ;
/*!50003 SET collation_connection  = @saved_col_connection */ ;

--
-- Table structure for table `we``ird`
--

DROP TABLE IF EXISTS `we``ird`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `we``ird` (
  `id` int(11) NOT NULL,
  `s` varchar(50) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `we``ird`
--

LOCK TABLES `we``ird` WRITE;
/*!40000 ALTER TABLE `we``ird` DISABLE KEYS */;
INSERT INTO `we``ird` VALUES
(1,'a'),
(2,'b');
/*!40000 ALTER TABLE `we``ird` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Dumping routines for database 'shop'
--
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
/*!50003 DROP PROCEDURE IF EXISTS `p` */;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;
/*!50003 SET character_set_client  = utf8mb3 */ ;
/*!50003 SET character_set_results = utf8mb3 */ ;
/*!50003 SET collation_connection  = utf8mb3_general_ci */ ;
DELIMITER ;;
CREATE DEFINER=`root`@`localhost` PROCEDURE `p`()
BEGIN
INSERT INTO log VALUES (42), (43);
END
;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
/*!50003 SET character_set_results = @saved_cs_results */ ;
/*!50003 SET collation_connection  = @saved_col_connection */ ;

--
-- Current Database: `other`
--

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `other` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci */;

USE `other`;

--
-- Table structure for table `t`
--

DROP TABLE IF EXISTS `t`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `t` (
  `id` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `t`
--

LOCK TABLES `t` WRITE;
/*!40000 ALTER TABLE `t` DISABLE KEYS */;
INSERT INTO `t` VALUES
(1),
(2),
(3);
/*!40000 ALTER TABLE `t` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Dumping routines for database 'other'
--
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2026-11-30 12:49:45
