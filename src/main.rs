fn main() {
    println!(
        "dbbr {} (rclone {})",
        env!("CARGO_PKG_VERSION"),
        dbbr::rclone::rclone_version()
    );
    dbbr::rclone::init().unwrap();
}
