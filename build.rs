fn main() {
    // The images tree is embedded in the binary: rebuild when it changes.
    println!("cargo:rerun-if-changed=images");
}
