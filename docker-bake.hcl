# docker buildx bake            -> both images
# docker buildx bake postgresql-backup-rclone --set '*.platform=linux/amd64'
variable "REGISTRY" {
  default = ""
}

variable "TAG" {
  default = "latest"
}

group "default" {
  targets = ["postgresql-backup-rclone", "mariadb-backup-rclone"]
}

target "_common" {
  context    = "."
  dockerfile = "docker/Dockerfile"
  platforms  = ["linux/amd64", "linux/arm64"]
  labels = {
    "org.opencontainers.image.source"      = "dbbr"
    "org.opencontainers.image.description" = "Streams database backups through gzip and age to any rclone remote"
  }
}

target "postgresql-backup-rclone" {
  inherits = ["_common"]
  target   = "postgresql"
  tags     = ["${REGISTRY}postgresql-backup-rclone:${TAG}"]
}

target "mariadb-backup-rclone" {
  inherits = ["_common"]
  target   = "mariadb"
  tags     = ["${REGISTRY}mariadb-backup-rclone:${TAG}"]
}
