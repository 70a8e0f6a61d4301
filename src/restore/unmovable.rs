//! What a MariaDB dump holds that cannot move from one database to another
//! (`RENAME TABLE` refuses views and tables with triggers; routines and
//! events belong to their database): found while the backup is verified,
//! before anything is restored. mariadb-dump writes each of them starting a
//! line of its own, as recognised here.

/// Line starts that begin such an object, and what it is.
const MARKERS: &[(&[u8], &str)] = &[
    (b"/*!50001 CREATE ALGORITHM", "views"),
    (b"/*!50001 VIEW ", "views"),
    (b"/*!50003 CREATE*/ /*!50017 DEFINER", "triggers"),
    (b"/*!50003 TRIGGER", "triggers"),
    (b"CREATE DEFINER=", "routines"),
    (b"/*!50106 CREATE*/", "events"),
];

/// The longest marker.
const LONGEST: usize = 40;

/// Scans a MariaDB dump for objects that cannot move.
#[derive(Debug, Default)]
pub(super) struct Unmovable {
    /// The start of the current line, up to [`LONGEST`] bytes.
    head: Vec<u8>,
    /// Inside a line, past its start.
    in_line: bool,
    found: Vec<&'static str>,
}

impl Unmovable {
    /// Reads the next bytes of the dump.
    pub(super) fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.in_line {
                match memchr::memchr(b'\n', bytes) {
                    Some(end) => {
                        self.in_line = false;
                        bytes = &bytes[end + 1..];
                    }
                    None => return,
                }
                continue;
            }
            let byte = bytes[0];
            bytes = &bytes[1..];
            if byte == b'\n' {
                self.head.clear();
                continue;
            }
            self.head.push(byte);
            if let Some((_, what)) = MARKERS.iter().find(|(m, _)| self.head.starts_with(m)) {
                if !self.found.contains(what) {
                    self.found.push(what);
                }
                self.done_with_line();
            } else if !MARKERS.iter().any(|(m, _)| m.starts_with(&self.head))
                || self.head.len() >= LONGEST
            {
                self.done_with_line();
            }
        }
    }

    fn done_with_line(&mut self) {
        self.head.clear();
        self.in_line = true;
    }

    /// What was found: `views`, `triggers`, `routines`, `events`.
    pub(super) fn found(&self) -> &[&'static str] {
        &self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_cannot_move_at_any_split() {
        let dump = "-- MariaDB dump\nCREATE TABLE `t` (a int);\nINSERT INTO `t` VALUES ('/*!50001 VIEW x');\n\
            /*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`root`@`localhost` */\n\
            /*!50001 VIEW `v` AS select 1 AS `a` */;\nDELIMITER ;;\n\
            /*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER trg AFTER INSERT ON t FOR EACH ROW\n\
            SET @x = 1 */;;\nDELIMITER ;\n";
        for cut in 0..=dump.len() {
            let mut scan = Unmovable::default();
            scan.update(&dump.as_bytes()[..cut]);
            scan.update(&dump.as_bytes()[cut..]);
            assert_eq!(scan.found(), ["views", "triggers"], "cut at {cut}");
        }
        let mut plain = Unmovable::default();
        plain.update(
            b"CREATE TABLE `t` (a int);\nINSERT INTO `t` VALUES (1);\n-- CREATE DEFINER=x\n",
        );
        assert!(plain.found().is_empty());
        let mut routine = Unmovable::default();
        routine.update(
            b"DELIMITER ;;\nCREATE DEFINER=`root`@`localhost` PROCEDURE `p`()\nBEGIN\nEND ;;\n",
        );
        assert_eq!(routine.found(), ["routines"]);
    }
}
