//! Links the addon against Node-API (napi-build sets the platform's linker flags).
fn main() {
  napi_build::setup();
}
