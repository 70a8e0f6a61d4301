# docker buildx bake                        both images, for this machine's platform
# PROD=true docker buildx bake              linux/amd64 and linux/arm64
# DBBR_REGISTRY=registry.example/me docker buildx bake --push
# docker buildx bake --print                what would be built, as JSON
#
# postgresql-backup-rclone gets one tag per supported PostgreSQL client major
# (PG_MAJORS; pg_dump must be at least the server's major), the newest also
# as `latest` and `rclone-vX.Y.Z`; mariadb-backup-rclone gets `latest` and
# `rclone-vX.Y.Z`.

variable "DBBR_REGISTRY" {
  # e.g. "registry.example/me": the images are then registry.example/me/postgresql-backup-rclone, ...
  default = ""
}

variable "PROD" {
  default = "false"
}

variable "RCLONE_VERSION" {
  # The rclone embedded by librclone-sys (librclone-sys/go/go.mod); the
  # test command checks that the two agree.
  default = "v1.76.0"
}

variable "PG_MAJORS" {
  # Supported PostgreSQL majors, oldest first; the last one is `latest`.
  default = "15,16,17,18,19"
}

function "image" {
  params = [name]
  result = DBBR_REGISTRY == "" ? name : "${trimsuffix(DBBR_REGISTRY, "/")}/${name}"
}

function "newest_pg" {
  params = []
  result = element(split(",", PG_MAJORS), length(split(",", PG_MAJORS)) - 1)
}

group "default" {
  targets = ["postgresql-backup-rclone", "mariadb-backup-rclone"]
}

target "_common" {
  context    = "."
  dockerfile = "docker/Dockerfile"
  # Empty: the builder's own platform.
  platforms = PROD == "true" ? ["linux/amd64", "linux/arm64"] : []
  labels = {
    "org.opencontainers.image.title"       = "dbbr"
    "org.opencontainers.image.description" = "Streams database backups through compression and age encryption to any rclone remote"
    "org.opencontainers.image.version"     = "rclone-${RCLONE_VERSION}"
  }
}

target "postgresql-backup-rclone" {
  name     = "postgresql-backup-rclone-${pg}"
  inherits = ["_common"]
  target   = "postgresql"
  matrix = {
    pg = split(",", PG_MAJORS)
  }
  args = {
    PG_MAJOR  = pg
    PG_SOURCE = "pgdg"
  }
  tags = concat(
    [
      "${image("postgresql-backup-rclone")}:${pg}",
      "${image("postgresql-backup-rclone")}:${pg}-rclone-${RCLONE_VERSION}",
    ],
    pg == newest_pg() ? [
      "${image("postgresql-backup-rclone")}:latest",
      "${image("postgresql-backup-rclone")}:rclone-${RCLONE_VERSION}",
    ] : []
  )
}

target "mariadb-backup-rclone" {
  inherits = ["_common"]
  target   = "mariadb"
  tags = [
    "${image("mariadb-backup-rclone")}:latest",
    "${image("mariadb-backup-rclone")}:rclone-${RCLONE_VERSION}",
  ]
}
