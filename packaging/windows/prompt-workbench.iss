; Inno Setup recipe for the Windows installer of Prompt Workbench.
; NOT exercised by our Linux CI: build and try it on Windows before a release (docs/installing.md).
;
; 1. Build the one-folder bundle (from the repository root, in the app's virtual environment):
;      pyinstaller --noconfirm --clean packaging\workbench.spec
;    -> dist\prompt-workbench\workbench.exe (command line) and "Prompt Workbench.exe" (windowed)
; 2. Compile this script with Inno Setup 6:
;      iscc /DAppVersion=0.1.0 packaging\windows\prompt-workbench.iss
;    -> dist\prompt-workbench-0.1.0-windows-x64-setup.exe
;
; It installs per user by default (no administrator rights); the first wizard page offers an
; all-users install. The optional task puts the install folder on the user's PATH so `workbench`
; works in a terminal and in CI scripts.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Prompt Workbench"
#define GuiExe "Prompt Workbench.exe"
#define Root "..\.."

[Setup]
AppId={{6F1B7A52-2C5E-4B8E-9D1A-52A4E2D0C7B3}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Prompt Workbench maintainers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#Root}\dist
OutputBaseFilename=prompt-workbench-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\packaging\icons\prompt-workbench.ico
UninstallDisplayIcon={app}\{#GuiExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the `workbench` command to PATH"; GroupDescription: "Command line:"; Flags: unchecked

[Files]
Source: "{#Root}\dist\prompt-workbench\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#GuiExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Tasks: desktopicon

[Registry]
; Per-user PATH entry (HKCU works without administrator rights); removed again on uninstall.
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\{#GuiExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
; The same smoke test the Linux CI runs on the .deb; run it by hand after a test install:
;   "%LOCALAPPDATA%\Programs\Prompt Workbench\workbench.exe" --selftest

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Current: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Current) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Current) + ';') = 0;
end;

procedure RemoveFromPath(Dir: string);
var
  Current: string;
  P: Integer;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Current) then
    exit;
  P := Pos(';' + Uppercase(Dir), Uppercase(Current));
  if P > 0 then
  begin
    Delete(Current, P, Length(Dir) + 1);
    RegWriteExpandStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Current);
  end;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usPostUninstall then
    RemoveFromPath(ExpandConstant('{app}'));
end;
