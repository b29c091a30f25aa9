// The Android app is its own Gradle build, rooted here: the repository around it is a Cargo
// workspace, and Gradle needs nothing from it but the generated bindings and the .so files.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "anjian-android"
