CREATE TABLE auth_failures (
  bucket       text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  failures     integer NOT NULL
);
