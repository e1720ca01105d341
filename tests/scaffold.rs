//! `manouche startproject` and `startapp` write projects that build and serve as written.

use std::process::Command;

use crate::common;

#[test]
fn startproject_and_startapp_build_and_serve() {
    let manouche = common::workspace_binary("manouche", "manouche");
    let base = std::env::temp_dir().join(format!("manouche-scaffold-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let dir = common::scaffold_project(&base, "mysite", "blog");

    let again = Command::new(&manouche).args(["startproject", "mysite"]).arg(&dir).output().unwrap();
    assert_eq!(again.status.code(), Some(1), "refuses a non-empty folder");
    let bad = Command::new(&manouche).args(["startproject", "My-Site"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a valid project name"));
    let reserved = Command::new(&manouche).args(["startapp", "test", "--project"]).arg(&dir).output().unwrap();
    assert_eq!(reserved.status.code(), Some(2));
    let twice = Command::new(&manouche).args(["startapp", "blog", "--project"]).arg(&dir).output().unwrap();
    assert_eq!(twice.status.code(), Some(1), "the app exists");

    let target = common::target_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .args(["build", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(build.success(), "the generated project does not build");

    let served =
        common::runserver_and_get(&target.join("debug/mysite"), &[], &["/", "/blog/", "/static/blog/blog.css"], &[]);
    let (status, body) = &served.responses[0];
    assert_eq!(*status, 200, "{body}");
    assert!(body.contains("<h1>The pages app works</h1>"), "{body}");
    let (status, body) = &served.responses[1];
    assert_eq!(*status, 200, "{body}");
    assert!(body.contains("<h1>The blog app works</h1>") && body.contains("<code>/blog/</code>"), "{body}");
    assert_eq!(served.responses[2].0, 200);

    let check = Command::new(target.join("debug/mysite")).arg("check").output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let _ = std::fs::remove_dir_all(&base);
}
