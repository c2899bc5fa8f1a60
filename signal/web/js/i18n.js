// i18n.js - English and Japanese UI strings. t('key', {vars}).
const STR = {
  en: {
    'app.tagline': 'Chat and calls for your network',
    'login.title': 'Sign in', 'login.name': 'User name', 'login.password': 'Password',
    'login.submit': 'Sign in', 'login.busy': 'Signing in…', 'login.bad': 'Wrong user name or password.',
    'login.disabled': 'This account is disabled.', 'login.wait': 'Too many attempts. Try again in {s} s.',
    'login.failed': 'Could not sign in: {msg}', 'login.offline': 'Cannot reach the server.',
    'logout': 'Sign out', 'password.change': 'Change password', 'password.old': 'Current password',
    'password.new': 'New password', 'password.confirm': 'Repeat new password',
    'password.mismatch': 'The new passwords do not match.', 'password.short': 'Use at least 8 characters.',
    'password.wrong': 'The current password is wrong.', 'password.done': 'Password changed. Your other devices were signed out.',
    'save': 'Save', 'cancel': 'Cancel', 'close': 'Close', 'create': 'Create', 'invite': 'Invite', 'leave': 'Leave room',
    'rooms': 'Rooms', 'direct': 'Direct messages', 'room.new': 'New room', 'dm.new': 'New message',
    'room.name': 'Room name', 'room.topic': 'Topic (optional)', 'room.members': 'Members',
    'room.invite': 'Invite people', 'room.leave.confirm': 'Leave “{name}”?', 'room.empty': 'No messages yet. Say hello!',
    'room.none': 'Pick a room or start a conversation.', 'room.welcome': 'Welcome, {name}',
    'room.start': 'This is the beginning of {name}.', 'room.invited': '{name} joined',
    'members': 'Members', 'members.count': '{n} members', 'online': 'Online', 'away': 'Away', 'offline': 'Offline',
    'you': 'you', 'search': 'Search', 'search.placeholder': 'Search messages', 'search.none': 'No results for “{q}”.',
    'search.more': 'More results', 'filter': 'Find a room or person', 'people': 'People',
    'composer.placeholder': 'Message {name}', 'composer.send': 'Send', 'composer.attach': 'Attach files',
    'composer.replying': 'Replying to {name}', 'composer.editing': 'Editing message',
    'composer.hint': 'Enter to send · Shift+Enter for a new line', 'drop': 'Drop files to share in {name}',
    'msg.edited': '(edited)', 'msg.deleted': 'This message was deleted.', 'msg.reply': 'Reply',
    'msg.react': 'Add reaction', 'msg.edit': 'Edit', 'msg.delete': 'Delete', 'msg.delete.confirm': 'Delete this message?',
    'msg.seen': 'Seen by {names}', 'msg.sending': 'Sending…', 'msg.failed': 'Not sent',
    'msg.new': 'New messages', 'msg.loading': 'Loading…', 'msg.today': 'Today', 'msg.yesterday': 'Yesterday',
    'typing.one': '{a} is typing…', 'typing.two': '{a} and {b} are typing…', 'typing.many': 'Several people are typing…',
    'upload.failed': 'Upload of {name} failed: {msg}', 'upload.too_large': '{name} is too large.',
    'conn.reconnecting': 'Connection lost. Reconnecting…', 'conn.back': 'Connected again.',
    'conn.offline': 'Offline. Retrying in {s} s…', 'conn.resync': 'Catching up…',
    'settings': 'Settings', 'language': 'Language', 'notifications': 'Desktop notifications',
    'notifications.on': 'Enable notifications', 'notifications.blocked': 'Notifications are blocked by the browser.',
    'sound': 'Play a sound for new messages', 'profile': 'Profile',
    'echo.title': 'Test my call', 'echo.open': 'Test camera, microphone and connection',
    'echo.intro': 'Your camera and microphone go to the appliance and come back, the way a call would travel.',
    'echo.start': 'Start the test', 'echo.connecting': 'Connecting…', 'echo.ok': 'Working: you should see and hear yourself.',
    'echo.failed': 'The test failed:', 'echo.path': 'Path', 'echo.rtt': 'Round trip', 'echo.loss': 'Packet loss',
    'echo.jitter': 'Jitter', 'echo.received': 'Received', 'echo.relay': 'Relayed by the appliance', 'echo.direct': 'Direct',
    'call.audio': 'Voice call', 'call.video': 'Video call', 'call.incoming.video': 'Incoming video call', 'call.incoming.audio': 'Incoming voice call',
    'call.from': '{name} is calling', 'call.accept': 'Accept', 'call.accept.audio': 'Answer with voice',
    'call.accept.video': 'Answer with video', 'call.decline': 'Decline', 'call.calling': 'Calling…',
    'call.ringing': 'Ringing…', 'call.connecting': 'Connecting…', 'call.hangup': 'Hang up',
    'call.mute': 'Mute', 'call.unmute': 'Unmute', 'call.cam.off': 'Turn camera off', 'call.cam.on': 'Turn camera on',
    'call.share': 'Share screen', 'call.share.stop': 'Stop sharing', 'call.share.mode': 'Screen replaces camera',
    'call.devices': 'Devices', 'call.mic': 'Microphone', 'call.camera': 'Camera', 'call.speaker': 'Speaker',
    'call.ended': 'Call ended', 'call.reason.declined': '{name} declined.', 'call.reason.busy': 'Busy.',
    'call.reason.timeout': 'No answer.', 'call.reason.cancelled': 'Call cancelled.',
    'call.reason.answered_elsewhere': 'Answered on another device.', 'call.reason.declined_elsewhere': 'Declined on another device.',
    'call.reason.hangup': 'Call ended.', 'call.full': 'This call is full (4 people).',
    'call.nomedia': 'Camera or microphone unavailable: {msg}', 'call.inprogress': 'A call is in progress',
    'call.join': 'Join call', 'call.you': 'You', 'call.sharing': '{name} is presenting',
    'bc.present': 'Present screen to room', 'bc.presenting': 'You are presenting to {room}', 'bc.viewers': '{n} watching',
    'bc.viewers.one': '1 watching', 'bc.viewers.none': 'Nobody is watching yet', 'bc.stop': 'Stop presenting',
    'bc.from': '{name} is presenting', 'bc.in': 'Screen shared to {room}', 'bc.watch': 'Watch', 'bc.dismiss': 'Dismiss',
    'bc.leave': 'Stop watching', 'bc.waiting': 'Waiting for {name}’s screen…', 'bc.starting': 'Starting presentation…',
    'bc.ended': '{name} stopped presenting', 'bc.ended.you': 'Your presentation ended.',
    'bc.live': 'Live', 'bc.failed': 'Could not present: {msg}', 'bc.watch.failed': 'Could not watch: {msg}',
    'quality.relay': 'Relay', 'quality.direct': 'Direct', 'quality.rtt': 'RTT {ms} ms', 'quality.loss': 'Loss {p}%',
    'quality.good': 'Good connection', 'quality.fair': 'Fair connection', 'quality.poor': 'Poor connection',
    'menu': 'Menu', 'back': 'Back', 'start.chat': 'Message', 'notify.new': 'New message in {room}',
    'error': 'Something went wrong: {msg}', 'fullscreen': 'Full screen',
  },
  ja: {
    'app.tagline': 'ネットワーク内のチャットと通話',
    'login.title': 'サインイン', 'login.name': 'ユーザー名', 'login.password': 'パスワード',
    'login.submit': 'サインイン', 'login.busy': 'サインイン中…', 'login.bad': 'ユーザー名またはパスワードが違います。',
    'login.disabled': 'このアカウントは無効です。', 'login.wait': '試行回数が多すぎます。{s} 秒後にもう一度お試しください。',
    'login.failed': 'サインインできません: {msg}', 'login.offline': 'サーバーに接続できません。',
    'logout': 'サインアウト', 'password.change': 'パスワードの変更', 'password.old': '現在のパスワード',
    'password.new': '新しいパスワード', 'password.confirm': '新しいパスワード（確認）',
    'password.mismatch': '新しいパスワードが一致しません。', 'password.short': '8 文字以上にしてください。',
    'password.wrong': '現在のパスワードが違います。', 'password.done': 'パスワードを変更しました。他の端末はサインアウトされました。',
    'save': '保存', 'cancel': 'キャンセル', 'close': '閉じる', 'create': '作成', 'invite': '招待', 'leave': 'ルームを退出',
    'rooms': 'ルーム', 'direct': 'ダイレクトメッセージ', 'room.new': '新しいルーム', 'dm.new': '新しいメッセージ',
    'room.name': 'ルーム名', 'room.topic': 'トピック（任意）', 'room.members': 'メンバー',
    'room.invite': 'メンバーを招待', 'room.leave.confirm': '「{name}」を退出しますか？', 'room.empty': 'まだメッセージはありません。あいさつしましょう！',
    'room.none': 'ルームを選ぶか、会話を始めてください。', 'room.welcome': 'ようこそ、{name} さん',
    'room.start': '{name} の始まりです。', 'room.invited': '{name} が参加しました',
    'members': 'メンバー', 'members.count': '{n} 人のメンバー', 'online': 'オンライン', 'away': '離席中', 'offline': 'オフライン',
    'you': 'あなた', 'search': '検索', 'search.placeholder': 'メッセージを検索', 'search.none': '「{q}」に一致する結果はありません。',
    'search.more': 'さらに表示', 'filter': 'ルームや人を検索', 'people': 'ユーザー',
    'composer.placeholder': '{name} へメッセージ', 'composer.send': '送信', 'composer.attach': 'ファイルを添付',
    'composer.replying': '{name} さんに返信', 'composer.editing': 'メッセージを編集中',
    'composer.hint': 'Enter で送信 · Shift+Enter で改行', 'drop': 'ファイルをドロップして {name} に共有',
    'msg.edited': '（編集済み）', 'msg.deleted': 'このメッセージは削除されました。', 'msg.reply': '返信',
    'msg.react': 'リアクション', 'msg.edit': '編集', 'msg.delete': '削除', 'msg.delete.confirm': 'このメッセージを削除しますか？',
    'msg.seen': '既読: {names}', 'msg.sending': '送信中…', 'msg.failed': '未送信',
    'msg.new': '新着メッセージ', 'msg.loading': '読み込み中…', 'msg.today': '今日', 'msg.yesterday': '昨日',
    'typing.one': '{a} さんが入力中…', 'typing.two': '{a} さんと {b} さんが入力中…', 'typing.many': '複数の人が入力中…',
    'upload.failed': '{name} のアップロードに失敗しました: {msg}', 'upload.too_large': '{name} は大きすぎます。',
    'conn.reconnecting': '接続が切れました。再接続しています…', 'conn.back': '再接続しました。',
    'conn.offline': 'オフラインです。{s} 秒後に再試行します…', 'conn.resync': '同期しています…',
    'settings': '設定', 'language': '言語', 'notifications': 'デスクトップ通知',
    'notifications.on': '通知を有効にする', 'notifications.blocked': 'ブラウザーで通知がブロックされています。',
    'sound': '新着メッセージで音を鳴らす', 'profile': 'プロフィール',
    'echo.title': '通話テスト', 'echo.open': 'カメラ・マイク・接続をテスト',
    'echo.intro': 'カメラとマイクの映像・音声がアプライアンスを経由して戻ってきます。通話と同じ経路です。',
    'echo.start': 'テストを開始', 'echo.connecting': '接続しています…', 'echo.ok': '正常です。自分の映像と音声が確認できます。',
    'echo.failed': 'テストに失敗しました:', 'echo.path': '経路', 'echo.rtt': '往復時間', 'echo.loss': 'パケット損失',
    'echo.jitter': 'ジッター', 'echo.received': '受信量', 'echo.relay': 'アプライアンス経由', 'echo.direct': '直接',
    'call.audio': '音声通話', 'call.video': 'ビデオ通話', 'call.incoming.video': 'ビデオ通話の着信', 'call.incoming.audio': '音声通話の着信',
    'call.from': '{name} さんから着信', 'call.accept': '応答', 'call.accept.audio': '音声で応答',
    'call.accept.video': 'ビデオで応答', 'call.decline': '拒否', 'call.calling': '発信中…',
    'call.ringing': '呼び出し中…', 'call.connecting': '接続中…', 'call.hangup': '通話を終了',
    'call.mute': 'ミュート', 'call.unmute': 'ミュート解除', 'call.cam.off': 'カメラをオフ', 'call.cam.on': 'カメラをオン',
    'call.share': '画面を共有', 'call.share.stop': '共有を停止', 'call.share.mode': '画面共有でカメラを置き換える',
    'call.devices': 'デバイス', 'call.mic': 'マイク', 'call.camera': 'カメラ', 'call.speaker': 'スピーカー',
    'call.ended': '通話終了', 'call.reason.declined': '{name} さんが拒否しました。', 'call.reason.busy': '通話中です。',
    'call.reason.timeout': '応答がありません。', 'call.reason.cancelled': '通話はキャンセルされました。',
    'call.reason.answered_elsewhere': '別の端末で応答しました。', 'call.reason.declined_elsewhere': '別の端末で拒否しました。',
    'call.reason.hangup': '通話が終了しました。', 'call.full': 'この通話は満員です（4 人）。',
    'call.nomedia': 'カメラまたはマイクを使えません: {msg}', 'call.inprogress': '通話中',
    'call.join': '通話に参加', 'call.you': 'あなた', 'call.sharing': '{name} さんが画面を共有中',
    'bc.present': 'ルームに画面を発表', 'bc.presenting': '{room} に発表中', 'bc.viewers': '{n} 人が視聴中',
    'bc.viewers.one': '1 人が視聴中', 'bc.viewers.none': 'まだ誰も視聴していません', 'bc.stop': '発表を終了',
    'bc.from': '{name} さんが発表中', 'bc.in': '{room} に画面を共有しています', 'bc.watch': '視聴', 'bc.dismiss': '閉じる',
    'bc.leave': '視聴をやめる', 'bc.waiting': '{name} さんの画面を待っています…', 'bc.starting': '発表を開始しています…',
    'bc.ended': '{name} さんが発表を終了しました', 'bc.ended.you': '発表を終了しました。',
    'bc.live': 'ライブ', 'bc.failed': '発表できません: {msg}', 'bc.watch.failed': '視聴できません: {msg}',
    'quality.relay': 'リレー', 'quality.direct': '直接', 'quality.rtt': '遅延 {ms} ms', 'quality.loss': '損失 {p}%',
    'quality.good': '接続良好', 'quality.fair': '接続やや不安定', 'quality.poor': '接続不良',
    'menu': 'メニュー', 'back': '戻る', 'start.chat': 'メッセージ', 'notify.new': '{room} に新着メッセージ',
    'error': 'エラーが発生しました: {msg}', 'fullscreen': '全画面',
  },
};

const KEY = 'lanturn.lang';
let lang = localStorage.getItem(KEY) || (String(navigator.language || 'en').toLowerCase().startsWith('ja') ? 'ja' : 'en');
const listeners = new Set();

export function t(key, vars = {}) {
  const s = (STR[lang] && STR[lang][key]) || STR.en[key] || key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] !== undefined ? String(vars[k]) : ''));
}
export function getLang() { return lang; }
export function languages() { return [['en', 'English'], ['ja', '日本語']]; }
export function setLang(l) {
  if (!STR[l] || l === lang) return;
  lang = l;
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l;
  for (const fn of listeners) fn(l);
}
export function onLang(fn) { listeners.add(fn); }
document.documentElement.lang = lang;

export function fmtTime(ms) {
  return new Date(ms).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
}
export function fmtDay(ms) {
  const d = new Date(ms), now = new Date();
  const day = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const diff = (day(now) - day(d)) / 86400000;
  if (diff === 0) return t('msg.today');
  if (diff === 1) return t('msg.yesterday');
  return d.toLocaleDateString(lang, { weekday: 'long', month: 'long', day: 'numeric',
    year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric' });
}
